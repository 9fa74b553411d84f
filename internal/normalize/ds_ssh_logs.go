package normalize

// ssh_logs (account; Access for Infrastructure SSH command logs) →
// cloudflare_logpush.ssh_log. Elastic has no such data stream: this follows
// the conventions of its other cloudflare_logpush pipelines (singular stream
// name; custom fields under cloudflare_logpush.ssh_log.*; ECS copies of a
// custom field are "duplicates", kept only with KeepDuplicateFields).
//
// ECS choices: Datetime → @timestamp; the session's start / finish →
// event.start / event.end; ClientAddress → source.address (+ source.ip /
// source.port when it holds an address); ServerAddress → destination.*;
// UserEmail / UserID → user.email / user.id; Username, the principal
// logged into on the server → destination.user.name; an Error sets
// event.outcome failure. network.protocol is "ssh", event.category
// [network, session].

var sshLogs = &Dataset{
	Name:    "ssh_logs",
	Elastic: "cloudflare_logpush.ssh_log",
	Aliases: []string{"ssh_log"},
	// No field identifies a message alone: session, program and time do.
	IDFields: []string{"SessionID", "ProgramID", "Datetime", "Payload", "Error"},
	DropNA:   true,
	Static: []Static{
		{"event.kind", `"event"`},
		{"event.category", `["network","session"]`},
		{"event.type", `["info"]`},
		{"network.protocol", `"ssh"`},
	},
	Fields: []Field{
		{Src: "Datetime", Custom: "timestamp", ECS: "@timestamp", Type: Timestamp},
		{Src: "SessionStartDatetime", Custom: "session.start_time", ECS: "event.start", Type: Timestamp},
		{Src: "SessionFinishDatetime", Custom: "session.finish_time", ECS: "event.end", Type: Timestamp},
		{Src: "ProgramStartDatetime", Custom: "program.start_time", Type: Timestamp},
		{Src: "ProgramFinishDatetime", Custom: "program.finish_time", Type: Timestamp},

		{Src: "ClientAddress", Custom: "client.address", ECS: "source.address"},      // source.ip / port in derive
		{Src: "ServerAddress", Custom: "server.address", ECS: "destination.address"}, // destination.ip / port in derive
		{Src: "UserEmail", Custom: "user.email", ECS: "user.email", Related: RelatedUser},
		{Src: "UserID", Custom: "user.id", ECS: "user.id", Related: RelatedUser},
		{Src: "Username", Custom: "username", ECS: "destination.user.name", Related: RelatedUser},

		{Src: "AccountID", Custom: "account_id"},
		{Src: "Error", Custom: "error"}, // event.outcome in derive
		{Src: "PTY", Custom: "pty"},
		{Src: "Payload", Custom: "payload"},
		{Src: "ProgramID", Custom: "program.id"},
		{Src: "ProgramType", Custom: "program.type"},
		{Src: "SessionID", Custom: "session.id"},
		{Src: "TargetID", Custom: "target.id"},
	},
	Derive: deriveSSHLogs,
}

// deriveSSHLogs splits the client and server addresses into ip and port
// and sets event.outcome failure when the message carries an error.
func deriveSSHLogs(s *Schema) DeriveFunc {
	client, server, errField := s.Field("ClientAddress"), s.Field("ServerAddress"), s.Field("Error")
	srcIP, srcPort, srcDomain := s.Slot("source.ip"), s.Slot("source.port"), s.Slot("source.domain")
	dstIP, dstPort, dstDomain := s.Slot("destination.ip"), s.Slot("destination.port"), s.Slot("destination.domain")
	outcome := s.Slot("event.outcome")
	split := func(r *Rec, f FieldRef, ipSlot, portSlot, domainSlot SlotRef) {
		addr, ok := r.String(f)
		if !ok || addr == "" {
			return
		}
		ip, host, port := splitHostPort(addr)
		if ip.IsValid() {
			r.SetString(ipSlot, host)
			r.AddRelated(RelatedIP, host)
		} else if host != "" && validJavaHost(host) {
			r.SetString(domainSlot, host)
			r.AddRelated(RelatedHosts, host)
		}
		if port >= 0 {
			r.SetInt(portSlot, int64(port))
		}
	}
	return func(r *Rec) {
		split(r, client, srcIP, srcPort, srcDomain)
		split(r, server, dstIP, dstPort, dstDomain)
		if e, ok := r.String(errField); ok && e != "" && e != "N/A" {
			r.SetString(outcome, "failure")
		}
	}
}
