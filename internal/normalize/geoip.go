package normalize

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/flarehose/flarehose/internal/normalize/ecsjson"
)

// GeoIP enriches an IP address like Elastic's geoip processor (default
// properties) followed by its ASN lookup: <prefix>.geo.{continent_name,
// country_iso_code, country_name, region_iso_code, region_name, city_name,
// location} and <prefix>.as.{number, organization.name}. Without GeoIP
// databases (Options.GeoIPDir unset) it writes nothing.
//
// Only use it where Elastic's pipeline runs geoip for that dataset.
func GeoIP(prefix string) Enricher { return geoEnricher{prefix: prefix} }

type geoEnricher struct{ prefix string }

func (g geoEnricher) bind(s *Schema) enrichFunc { return bindGeo(s, g.prefix, true) }

// bindGeo registers the <prefix>.geo.* slots (and with withAS the
// <prefix>.as.* ones) and returns the function writing them for an IP:
// Elastic's geoip processor, and the ASN one with withAS.
func bindGeo(s *Schema, prefix string, withAS bool) enrichFunc {
	p := prefix
	city := s.Slot(p + ".geo.city_name")
	continent := s.Slot(p + ".geo.continent_name")
	countryISO := s.Slot(p + ".geo.country_iso_code")
	country := s.Slot(p + ".geo.country_name")
	location := s.Slot(p + ".geo.location")
	regionISO := s.Slot(p + ".geo.region_iso_code")
	region := s.Slot(p + ".geo.region_name")
	asn, asOrg := NoSlot, NoSlot
	if withAS {
		asn = s.Slot(p + ".as.number")
		asOrg = s.Slot(p + ".as.organization.name")
	}
	return func(r *Rec, ip string) {
		info := r.n.env.geo(ip)
		if info == nil {
			return
		}
		r.SetString(city, info.city)
		r.SetString(continent, info.continent)
		r.SetString(countryISO, info.countryISO)
		r.SetString(country, info.country)
		r.SetString(regionISO, info.regionISO)
		r.SetString(region, info.region)
		if info.hasLocation {
			b := r.begin()
			b = append(b, `{"lat":`...)
			b, _ = ecsjson.AppendFloat(b, info.lat)
			b = append(b, `,"lon":`...)
			b, _ = ecsjson.AppendFloat(b, info.lon)
			b = append(b, '}')
			r.commit(location, b)
		}
		if !withAS {
			return
		}
		if info.asn != 0 {
			r.SetInt(asn, int64(info.asn))
		}
		r.SetString(asOrg, info.asOrg)
	}
}

type geoInfo struct {
	city, continent, countryISO, country, regionISO, region string
	lat, lon                                                float64
	hasLocation                                             bool
	asn                                                     uint
	asOrg                                                   string
}

// geoDB holds the open MaxMind readers and a cache of lookups.
type geoDB struct {
	city, asn *maxminddb.Reader
	cache     *lru[*geoInfo]
}

// Accepted database file names, best first.
var (
	cityDBNames = []string{"GeoLite2-City.mmdb", "GeoIP2-City.mmdb", "GeoLite2-City-Test.mmdb", "GeoIP2-City-Test.mmdb",
		"GeoLite2-Country.mmdb", "GeoIP2-Country.mmdb", "GeoLite2-Country-Test.mmdb", "GeoIP2-Country-Test.mmdb"}
	asnDBNames = []string{"GeoLite2-ASN.mmdb", "GeoIP2-ASN.mmdb", "GeoLite2-ASN-Test.mmdb", "GeoIP2-ASN-Test.mmdb"}
)

func openGeoDB(dir string, cacheSize int) (*geoDB, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("geoip dir: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("geoip dir %s: not a directory", dir)
	}
	open := func(names []string) (*maxminddb.Reader, error) {
		for _, n := range names {
			p := filepath.Join(dir, n)
			if _, err := os.Stat(p); err != nil {
				continue
			}
			r, err := maxminddb.Open(p)
			if err != nil {
				return nil, fmt.Errorf("geoip: %s: %w", p, err)
			}
			return r, nil
		}
		return nil, nil
	}
	g := &geoDB{cache: newLRU[*geoInfo](max(cacheSize, 1024))}
	if g.city, err = open(cityDBNames); err != nil {
		return nil, err
	}
	if g.asn, err = open(asnDBNames); err != nil {
		g.close()
		return nil, err
	}
	if g.city == nil && g.asn == nil {
		return nil, fmt.Errorf("geoip dir %s: no GeoLite2/GeoIP2 City, Country or ASN database (.mmdb) found", dir)
	}
	return g, nil
}

func (g *geoDB) close() error {
	var errs []error
	if g.city != nil {
		errs = append(errs, g.city.Close())
	}
	if g.asn != nil {
		errs = append(errs, g.asn.Close())
	}
	return errors.Join(errs...)
}

type mmName struct {
	En string `maxminddb:"en"`
}

type cityRecord struct {
	City struct {
		Names mmName `maxminddb:"names"`
	} `maxminddb:"city"`
	Continent struct {
		Names mmName `maxminddb:"names"`
	} `maxminddb:"continent"`
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
		Names   mmName `maxminddb:"names"`
	} `maxminddb:"country"`
	Location struct {
		Latitude  *float64 `maxminddb:"latitude"`
		Longitude *float64 `maxminddb:"longitude"`
	} `maxminddb:"location"`
	Subdivisions []struct {
		ISOCode string `maxminddb:"iso_code"`
		Names   mmName `maxminddb:"names"`
	} `maxminddb:"subdivisions"`
}

type asnRecord struct {
	Number uint   `maxminddb:"autonomous_system_number"`
	Org    string `maxminddb:"autonomous_system_organization"`
}

// lookup returns what the databases know of ip, nil when nothing (or ip is
// not an address).
func (g *geoDB) lookup(ip string) *geoInfo {
	if info, ok := g.cache.Get(ip); ok {
		return info
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return nil
	}
	addr = addr.WithZone("")
	var info geoInfo
	found := false
	if g.city != nil {
		var rec cityRecord
		if res := g.city.Lookup(addr); res.Found() && res.Decode(&rec) == nil {
			found = true
			info.city = rec.City.Names.En
			info.continent = rec.Continent.Names.En
			info.countryISO = rec.Country.ISOCode
			info.country = rec.Country.Names.En
			if len(rec.Subdivisions) > 0 {
				sd := rec.Subdivisions[0]
				if sd.ISOCode != "" && rec.Country.ISOCode != "" {
					info.regionISO = rec.Country.ISOCode + "-" + sd.ISOCode
				}
				info.region = sd.Names.En
			}
			if rec.Location.Latitude != nil && rec.Location.Longitude != nil {
				info.hasLocation = true
				info.lat, info.lon = *rec.Location.Latitude, *rec.Location.Longitude
			}
		}
	}
	if g.asn != nil {
		var rec asnRecord
		if res := g.asn.Lookup(addr); res.Found() && res.Decode(&rec) == nil {
			found = true
			info.asn, info.asOrg = rec.Number, rec.Org
		}
	}
	var out *geoInfo
	if found {
		out = &info
	}
	g.cache.Add(ip, out)
	return out
}
