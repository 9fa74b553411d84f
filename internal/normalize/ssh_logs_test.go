package normalize

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

var sshCommands = []string{`$ ls -la\r\n`, `$ sudo systemctl restart nginx\r\n`, `$ tail -f /var/log/syslog\r\n`, `$ exit\r\n`, `total 48\r\ndrwxr-xr-x 5 ubuntu ubuntu 4096 .\r\n`}

// makeSSHLog returns an SSH command log record.
func makeSSHLog(rng *rand.Rand, i int) string {
	t := time.Date(2024, 6, 10, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 41 * time.Millisecond)
	return fmt.Sprintf(`{"AccountID":"5f0c2a7d9e1b4c3a8d6e2f1a0b9c8d7e","ClientAddress":"%s:%d","Datetime":%d,"Error":"%s",`+
		`"PTY":"{\"term\":\"xterm-256color\",\"width\":120,\"height\":40}","Payload":"[%d.%03d, \"o\", \"%s\"]","ProgramFinishDatetime":"",`+
		`"ProgramID":"prog-%08x","ProgramStartDatetime":%d,"ProgramType":"%s","ServerAddress":"10.20.%d.%d:22","SessionFinishDatetime":"",`+
		`"SessionID":"sess-%08x","SessionStartDatetime":%d,"TargetID":"%s","UserEmail":"user%d@example.org","UserID":"%s","Username":"%s"}`,
		randIPv4(rng), 1024+rng.IntN(60000), t.UnixNano(), pick(rng, "", "", "", "", "ssh: unable to authenticate"),
		rng.IntN(100), rng.IntN(1000), sshCommands[rng.IntN(len(sshCommands))], rng.Uint32(), t.Add(-time.Second).UnixNano(),
		pick(rng, "shell", "shell", "exec", "direct-tcpip"), rng.IntN(256), 1+rng.IntN(254), rng.Uint32(), t.Add(-time.Minute).UnixNano(),
		randUUID(rng), rng.IntN(500), randUUID(rng), pick(rng, "ubuntu", "ec2-user", "root", "deploy"))
}

func TestSSHLogsFields(t *testing.T) {
	doc := normalizeFlat(t, Options{}, "ssh_log",
		`{"ClientAddress":"[2001:db8::24]:40222","ServerAddress":"bastion.example.org:2222","Error":"ssh: handshake failed","Username":"root","UserEmail":"u@example.org",`+
			`"SessionStartDatetime":"2024-06-10T12:45:30Z","SessionFinishDatetime":1718023531000000000}`)
	expectFields(t, doc, map[string]any{
		"source.address":                   "[2001:db8::24]:40222",
		"source.ip":                        "2001:db8::24",
		"source.port":                      "40222",
		"destination.address":              "bastion.example.org:2222",
		"destination.domain":               "bastion.example.org",
		"destination.port":                 "2222",
		"destination.ip":                   nil,
		"destination.user.name":            "root",
		"event.outcome":                    "failure",
		"event.start":                      "2024-06-10T12:45:30.000Z",
		"event.end":                        "2024-06-10T12:45:31.000Z",
		"network.protocol":                 "ssh",
		"related.ip":                       []any{"2001:db8::24"},
		"related.hosts":                    []any{"bastion.example.org"},
		"related.user":                     []any{"u@example.org", "root"},
		"cloudflare_logpush.ssh_log.error": "ssh: handshake failed",
		"cloudflare_logpush.ssh_log.client.address": nil,
	})
	doc = normalizeFlat(t, Options{}, "ssh_logs", `{"ClientAddress":"203.0.113.7","ServerAddress":"2001:db8::1","Error":""}`)
	expectFields(t, doc, map[string]any{"source.ip": "203.0.113.7", "source.port": nil, "destination.ip": "2001:db8::1", "event.outcome": nil})
}
