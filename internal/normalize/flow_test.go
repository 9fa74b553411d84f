package normalize

import "testing"

// TestCommunityID checks the processor's algorithm against the Community ID
// specification's example and its symmetry and edge cases.
func TestCommunityID(t *testing.T) {
	for _, c := range []struct {
		name string
		f    Flow
		want string // "" = no id
	}{
		// The example of github.com/corelight/community-id-spec.
		{"spec tcp", Flow{SrcIP: "128.232.110.120", DstIP: "66.35.250.204", SrcPort: 34855, DstPort: 80, Transport: "tcp"}, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{"spec tcp reversed", Flow{SrcIP: "66.35.250.204", DstIP: "128.232.110.120", SrcPort: 80, DstPort: 34855, Transport: "TCP"}, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{"iana number wins", Flow{SrcIP: "128.232.110.120", DstIP: "66.35.250.204", SrcPort: 34855, DstPort: 80, IANANumber: "6", Transport: "udp"}, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{"mapped ipv4", Flow{SrcIP: "::ffff:128.232.110.120", DstIP: "66.35.250.204", SrcPort: 34855, DstPort: 80, Transport: "tcp"}, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{"no source", Flow{DstIP: "66.35.250.204", SrcPort: 1, DstPort: 80, Transport: "tcp"}, ""},
		{"bad address", Flow{SrcIP: "x", DstIP: "66.35.250.204", Transport: "tcp"}, ""},
		{"no protocol", Flow{SrcIP: "192.0.2.1", DstIP: "192.0.2.2"}, ""},
		{"unknown name", Flow{SrcIP: "192.0.2.1", DstIP: "192.0.2.2", Transport: "unix"}, ""},
		{"number too big", Flow{SrcIP: "192.0.2.1", DstIP: "192.0.2.2", IANANumber: "255"}, ""},
		{"bad port", Flow{SrcIP: "192.0.2.1", DstIP: "192.0.2.2", SrcPort: 70000, DstPort: 1, Transport: "udp"}, ""},
	} {
		got, ok := CommunityID(&c.f)
		if ok != (c.want != "") || got != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.name, got, ok, c.want)
		}
	}
	// Symmetry, also for ICMP echo request / reply and IPv6; ports only
	// count for the protocols that have them.
	pairs := [][2]Flow{
		{{SrcIP: "2001:db8::1", DstIP: "2001:db8::2", SrcPort: 5353, DstPort: 53, Transport: "udp"},
			{SrcIP: "2001:db8::2", DstIP: "2001:db8::1", SrcPort: 53, DstPort: 5353, Transport: "udp"}},
		{{SrcIP: "192.0.2.1", DstIP: "192.0.2.2", ICMPType: 8, Transport: "icmp"},
			{SrcIP: "192.0.2.2", DstIP: "192.0.2.1", ICMPType: 0, Transport: "icmp"}},
		{{SrcIP: "192.0.2.1", DstIP: "192.0.2.2", SrcPort: 1, DstPort: 2, Transport: "gre"},
			{SrcIP: "192.0.2.2", DstIP: "192.0.2.1", Transport: "47"}},
	}
	for _, p := range pairs {
		a, ok1 := CommunityID(&p[0])
		b, ok2 := CommunityID(&p[1])
		if !ok1 || !ok2 || a != b {
			t.Errorf("%+v / %+v: %q %q", p[0], p[1], a, b)
		}
	}
	// One-way ICMP (destination unreachable) keeps its direction.
	a, _ := CommunityID(&Flow{SrcIP: "192.0.2.1", DstIP: "192.0.2.2", ICMPType: 3, ICMPCode: 1, Transport: "icmp"})
	b, _ := CommunityID(&Flow{SrcIP: "192.0.2.2", DstIP: "192.0.2.1", ICMPType: 3, ICMPCode: 1, Transport: "icmp"})
	if a == b || a == "" {
		t.Errorf("one-way ICMP: %q %q", a, b)
	}
}
