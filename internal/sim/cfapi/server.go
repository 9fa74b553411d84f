package cfapi

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// BasePath is the API's path prefix: a client's base URL is the server's
// URL plus BasePath.
const BasePath = "/client/v4"

// Server is the simulated Cloudflare API, an http.Handler serving
// BasePath. Make one with New; Close stops the Logpush jobs it runs.
type Server struct {
	cfg     Config
	clock   Clock
	secret  []byte // signs ownership challenges and audit cursors
	zones   map[string]*zoneState
	zoneIDs []string // in Config order
	routes  []*route

	limiter          *limiter
	lpZone, lpUser   *limiter
	audit            *auditStream
	logpull          *logpullStore
	catalog          *catalog
	ctx              context.Context
	cancel           context.CancelFunc
	wg               sync.WaitGroup
	mu               sync.Mutex // guards the fields below and the zones' retention flags
	jobs             map[int]*job
	nextJobID        int
	closed           bool
	requests, denied int64
}

type zoneState struct {
	Zone
	retention bool
}

// New returns a simulator configured by cfg.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	cat, err := loadCatalog()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte("flarehose-sim-secret:" + strconv.FormatUint(cfg.Seed, 10) + cfg.AccountID))
	s := &Server{
		cfg:       cfg,
		clock:     cfg.Clock,
		secret:    sum[:],
		zones:     map[string]*zoneState{},
		limiter:   newLimiter(cfg.RateLimit, cfg.RateWindow, cfg.RatePenalty),
		lpZone:    newLimiter(cfg.LogpullZoneLimit, time.Minute, 0),
		lpUser:    newLimiter(cfg.LogpullUserLimit, time.Minute, 0),
		catalog:   cat,
		jobs:      map[int]*job{},
		nextJobID: 1,
	}
	for _, z := range cfg.Zones {
		s.zones[z.ID] = &zoneState{Zone: z, retention: cfg.RetentionOn}
		s.zoneIDs = append(s.zoneIDs, z.ID)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.audit, err = newAuditStream(s, s.clock.Now())
	if err != nil {
		return nil, err
	}
	s.logpull = newLogpullStore(s)
	s.routes = s.buildRoutes()
	return s, nil
}

// Token returns the value of the first configured API token (the default
// one when Config.Tokens was empty).
func (s *Server) Token() string { return s.cfg.Tokens[0].Value }

// AccountID returns the simulated account's ID.
func (s *Server) AccountID() string { return s.cfg.AccountID }

// Zones returns the simulated zones.
func (s *Server) Zones() []Zone {
	zs := make([]Zone, len(s.zoneIDs))
	for i, id := range s.zoneIDs {
		zs[i] = s.zones[id].Zone
	}
	return zs
}

// Config returns the configuration with its defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// SetRetention sets a zone's Logpull retention flag, as POST
// .../logs/control/retention/flag does.
func (s *Server) SetRetention(zoneID string, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zones[zoneID]
	if z == nil {
		return fmt.Errorf("no zone %s", zoneID)
	}
	z.retention = on
	return nil
}

// Close stops every running Logpush job and waits for them.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	for _, j := range s.jobs {
		j.stopLocked()
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}

// Instance is a Server listening on a TCP address.
type Instance struct {
	*Server
	// BaseURL is the API base URL, e.g. http://127.0.0.1:8787/client/v4.
	BaseURL string
	http    *http.Server
	ln      net.Listener
	done    chan struct{}
}

// Listen starts a simulator on addr ("127.0.0.1:0" picks a free port).
func Listen(addr string, cfg Config) (*Instance, error) {
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.Close()
		return nil, err
	}
	in := &Instance{Server: s, BaseURL: "http://" + ln.Addr().String() + BasePath, ln: ln, done: make(chan struct{}),
		http: &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		defer close(in.done)
		in.http.Serve(ln)
	}()
	return in, nil
}

// Addr returns the listening address.
func (in *Instance) Addr() string { return in.ln.Addr().String() }

// Close stops listening, then the server.
func (in *Instance) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := in.http.Shutdown(ctx)
	<-in.done
	in.Server.Close()
	return err
}

// Routing.

// scope is the zone or account a request's path names.
type scope struct {
	kind string // "zone", "account" or ""
	id   string
	zone *zoneState
}

func (sc scope) scopeName() string {
	if sc.kind == "zone" {
		return "zones"
	}
	return "accounts"
}

// request is one API call on its way through a handler.
type request struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	id     *identity
	scope  scope
	params map[string]string
	now    time.Time
}

func (c *request) ok(result any, info any, messages ...any) *apiError {
	writeResult(c.w, result, info, messages...)
	return nil
}

func (c *request) query(name string) (string, bool) {
	v, ok := c.r.URL.Query()[name]
	if !ok || len(v) == 0 {
		return "", ok
	}
	return v[0], true
}

// decode reads a JSON body into v.
func (c *request) decode(v any) *apiError {
	body, err := io.ReadAll(io.LimitReader(c.r.Body, 1<<20))
	if err != nil {
		return badRequest("reading the request body: " + err.Error())
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return badRequest("the request body is empty; JSON expected")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return badRequest("invalid JSON body: " + err.Error())
	}
	return nil
}

type handler func(c *request) *apiError

// route is one path pattern. Segments starting with ':' are parameters;
// ":zone", ":account" and ":scope" (either, as zones/:id or accounts/:id)
// name the request's scope.
type route struct {
	pattern []string
	methods map[string]endpoint
}

type endpoint struct {
	perm    Permission // "" when any valid credential will do
	handler handler
}

func (s *Server) buildRoutes() []*route {
	var routes []*route
	add := func(pattern string, methods map[string]endpoint) {
		segs := strings.Split(strings.Trim(pattern, "/"), "/")
		if segs[0] == ":scope" {
			for _, kind := range []string{"zones", "accounts"} {
				p := append([]string{kind, map[string]string{"zones": ":zone", "accounts": ":account"}[kind]}, segs[1:]...)
				routes = append(routes, &route{pattern: p, methods: methods})
			}
			return
		}
		routes = append(routes, &route{pattern: segs, methods: methods})
	}
	get := func(p Permission, h handler) map[string]endpoint {
		return map[string]endpoint{http.MethodGet: {p, h}}
	}
	post := func(p Permission, h handler) map[string]endpoint {
		return map[string]endpoint{http.MethodPost: {p, h}}
	}
	add("user/tokens/verify", get("", s.handleTokenVerify))
	add("accounts/:account/audit_logs", get(PermAccountSettingsRead, s.handleAuditV1))
	add("accounts/:account/logs/audit", get(PermAccountSettingsRead, s.handleAuditV2))
	add("zones/:zone/logs/control/retention/flag", map[string]endpoint{
		http.MethodGet:  {PermLogsRead, s.handleRetentionGet},
		http.MethodPost: {PermLogsWrite, s.handleRetentionSet},
	})
	add("zones/:zone/logs/received", get(PermLogsRead, s.handleReceived))
	add("zones/:zone/logs/received/fields", get(PermLogsRead, s.handleReceivedFields))
	add("zones/:zone/logs/rayids/:ray", get(PermLogsRead, s.handleRayID))
	add(":scope/logpush/jobs", map[string]endpoint{
		http.MethodGet:  {PermLogsWrite, s.handleJobList},
		http.MethodPost: {PermLogsWrite, s.handleJobCreate},
	})
	add(":scope/logpush/jobs/:job", map[string]endpoint{
		http.MethodGet:    {PermLogsWrite, s.handleJobGet},
		http.MethodPut:    {PermLogsWrite, s.handleJobUpdate},
		http.MethodDelete: {PermLogsWrite, s.handleJobDelete},
	})
	add(":scope/logpush/datasets/:dataset/fields", get(PermLogsWrite, s.handleDatasetFields))
	add(":scope/logpush/datasets/:dataset/jobs", get(PermLogsWrite, s.handleDatasetJobs))
	add(":scope/logpush/ownership", post(PermLogsWrite, s.handleOwnership))
	add(":scope/logpush/ownership/validate", post(PermLogsWrite, s.handleOwnershipValidate))
	add(":scope/logpush/validate/destination", post(PermLogsWrite, s.handleValidateDestination))
	add(":scope/logpush/validate/destination/exists", post(PermLogsWrite, s.handleValidateDestinationExists))
	add(":scope/logpush/validate/origin", post(PermLogsWrite, s.handleValidateOrigin))
	return routes
}

func (rt *route) match(segs []string) (map[string]string, bool) {
	if len(segs) != len(rt.pattern) {
		return nil, false
	}
	var params map[string]string
	for i, p := range rt.pattern {
		if strings.HasPrefix(p, ":") {
			if segs[i] == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[p[1:]] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// ServeHTTP implements http.Handler. The order of checks: header format
// (400 6003), route (404 7003, 405), credentials (403 10000), rate limit
// (429 971), the path's zone or account (400 7003, 403 10000), the
// permission (403 10000), then the endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := s.clock.Now()
	rest, ok := strings.CutPrefix(r.URL.Path, BasePath+"/")
	if !ok {
		writeError(w, errorf(http.StatusNotFound, CodeNoRoute, "No route for the URI"))
		return
	}
	creds, aerr := readCredentials(r.Header)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	segs := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	var (
		rt     *route
		params map[string]string
	)
	for _, cand := range s.routes {
		if p, ok := cand.match(segs); ok {
			rt, params = cand, p
			break
		}
	}
	if rt == nil {
		writeError(w, errorf(http.StatusNotFound, CodeNoRoute, "No route for the URI"))
		return
	}
	ep, ok := rt.methods[r.Method]
	if !ok {
		allowed := make([]string, 0, len(rt.methods))
		for m := range rt.methods {
			allowed = append(allowed, m)
		}
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, errorf(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "Method not allowed"))
		return
	}
	id, aerr := s.authenticate(creds)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	if s.limiter != nil {
		remaining, reset, retry := s.limiter.take(id.key, now)
		if retry > 0 {
			rateLimited(w, retry)
			return
		}
		setRateHeaders(w.Header(), s.limiter, remaining, reset)
	}
	c := &request{s: s, w: w, r: r, id: id, params: params, now: now}
	if aerr := s.resolveScope(c, rest); aerr != nil {
		writeError(w, aerr)
		return
	}
	if ep.perm != "" && !id.has(ep.perm) {
		writeError(w, authError(fmt.Sprintf("this API token lacks the %s permission (it has: %s)", ep.perm, id.permissionNames())))
		return
	}
	if aerr := ep.handler(c); aerr != nil {
		writeError(w, aerr)
	}
}

// resolveScope checks the zone or account ID in the path and the
// identity's access to it.
func (s *Server) resolveScope(c *request, rest string) *apiError {
	notRoutable := func() *apiError {
		return errorf(http.StatusBadRequest, CodeNoRoute, "Could not route to "+BasePath+"/"+rest+", perhaps your object identifier is invalid?")
	}
	if id, ok := c.params["zone"]; ok {
		if !hex32.MatchString(id) {
			return notRoutable()
		}
		z := s.zones[id]
		if z == nil || !c.id.canZone(id, s.cfg.AccountID) {
			return authError("this credential has no access to zone " + id)
		}
		c.scope = scope{kind: "zone", id: id, zone: z}
	}
	if id, ok := c.params["account"]; ok {
		if !hex32.MatchString(id) {
			return notRoutable()
		}
		if id != s.cfg.AccountID || !c.id.canAccount(id) {
			return authError("this credential has no access to account " + id)
		}
		c.scope = scope{kind: "account", id: id}
	}
	if j, ok := c.params["job"]; ok {
		if n, err := strconv.Atoi(j); err != nil || n < 1 {
			return notRoutable()
		}
	}
	return nil
}

// handleTokenVerify: GET /user/tokens/verify.
func (s *Server) handleTokenVerify(c *request) *apiError {
	if c.id.token == nil {
		return authError("/user/tokens/verify checks API tokens; this request used a Global API Key")
	}
	return c.ok(map[string]any{"id": c.id.token.ID, "status": "active"}, nil,
		map[string]any{"code": 10000, "message": "This API Token is valid and active", "type": nil})
}

var errClosed = errors.New("cfapi: server closed")
