// Package sim simulates Cloudflare's side of Logpush: it invents realistic log
// records and delivers them to an HTTP destination the way a Logpush job does.
// The collector's tests, the demo and the benchmarks use it, since Cloudflare
// itself cannot be reached. A later Cloudflare API simulator (Logpush job API,
// Logpull, audit logs) is meant to reuse the same parts.
//
// It has three layers, each usable on its own:
//
//   - Generators (NewGenerator) produce the records of one dataset
//     (http_requests, firewall_events, audit_logs). They are deterministic:
//     the same Config and the same timestamps give the same bytes. Field
//     names and JSON types follow shared/cloudflare/datasets.json.
//   - A Format (NewFormat) is a job's output_options compiled for one
//     dataset: field selection and order, timestamp_format, record and batch
//     framing, the CVE-2021-44228 substitution and sample_rate. A
//     BatchWriter renders records into one upload body.
//   - A Pusher (NewPusher) runs one Logpush job against an HTTP destination
//     given as a destination_conf string: the validation probe, then gzip
//     batches split by records, bytes and time, with retries. It runs in
//     real time at a target rate, as a backfill of a past window, or for a
//     fixed number of records.
//
// # A simulated world
//
// The zone datasets come from one traffic model: a handful of zones (a shop,
// a SaaS app with its API, a news site, a WordPress blog, a docs site)
// visited by people on browsers and phones, search engine and AI crawlers,
// uptime monitors, API clients, curl users and internet scanners, from a
// table of real networks (country, region, city, ASN, IP prefix, nearest
// Cloudflare colo). A client IP always maps to the same country, ASN and
// colo. Every now and then an attack burst starts: a WordPress login brute
// force from one IP that the rate limiting rule ends up blocking, a
// vulnerability scan, credential stuffing from residential proxies that gets
// managed challenges, or a Log4Shell spray. Security rules (custom rules,
// rate limiting, the managed ruleset, security level, browser integrity
// check) decide the outcome of each request, and the http_requests fields
// (SecurityAction, SecurityRuleIDs, status, cache and origin fields, timings)
// follow from that outcome.
//
// http_requests and firewall_events generators built from the same Config
// run the same traffic: the firewall_events stream is exactly the rule
// matches of the http_requests stream, with the same RayIDs, clients and
// rules (one event per matched rule, MatchIndex counting down to the
// terminating match). Driven through Stepper with the same timestamps (the
// Pusher does this with PushOptions.FollowTraffic) the events also carry
// their request's timestamp, so two jobs run with the same PushOptions
// agree on every RayID and instant.
//
// Spellings follow datasets.json: firewall_events Action and Source are
// lower case ("managedchallenge", "firewallmanaged"), http_requests
// SecurityActions and SecuritySources camel case ("managedChallenge",
// "firewallManaged"); ClientCountry is a lower-case ISO code.
//
// audit_logs comes from a separate model of an account's team: logins from
// home and from travel, API token, member, role and two-factor changes, DNS,
// firewall, zone setting and Logpush job edits, cache purges, Cloudflare's
// own actions, and now and then an account takeover attempt (failed logins
// from a hosting or Tor IP, then a login and an API token).
package sim
