package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// testBucket is the behaviour every provider must show, run against an
// empty bucket: the local directory here, and MinIO, fake-gcs-server and
// Azurite in the provider tests.
func testBucket(t *testing.T, b Bucket) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	if s := b.String(); s == "" || strings.Contains(s, "?") {
		t.Errorf("String() = %q: want a name without a query", s)
	}

	// Missing keys wrap fs.ErrNotExist.
	if _, err := b.Get(ctx, "logs/missing.log.gz"); !IsNotExist(err) {
		t.Fatalf("Get(missing) = %v: want an error wrapping fs.ErrNotExist", err)
	}
	if _, err := ReadAll(ctx, b, "logs/missing.log.gz", 10); !IsNotExist(err) {
		t.Fatalf("ReadAll(missing) = %v: want fs.ErrNotExist", err)
	}

	// Put then Get returns the bytes as stored (gzip is not undone).
	gz := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1, 2, 3}
	keys := []string{
		"logs/20260101/20260101T000000Z_20260101T000030Z_0a1b2c3d.log.gz",
		"logs/20260101/20260101T000030Z_20260101T000100Z_ffee0011.log.gz",
		"logs/20260102/20260102T000000Z_20260102T000030Z_12345678.log.gz",
		"logs/ownership-challenge-1a2b3c4d.txt",
		"other/a b+c%d=é.txt", // characters a key may hold
	}
	for i, k := range keys {
		body := append(append([]byte{}, gz...), byte(i))
		if err := b.Put(ctx, k, body, PutOptions{ContentType: "application/gzip"}); err != nil {
			t.Fatalf("Put(%q): %v", k, err)
		}
	}
	for i, k := range keys {
		got, err := ReadAll(ctx, b, k, 0)
		if err != nil {
			t.Fatalf("ReadAll(%q): %v", k, err)
		}
		if want := append(append([]byte{}, gz...), byte(i)); !bytes.Equal(got, want) {
			t.Fatalf("ReadAll(%q) = %x, want %x", k, got, want)
		}
	}

	// Put replaces.
	if err := b.Put(ctx, keys[3], []byte("token.v2"), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := ReadAll(ctx, b, keys[3], 0); string(got) != "token.v2" {
		t.Fatalf("after replacing: %q", got)
	}
	// ReadAll's limit.
	if _, err := ReadAll(ctx, b, keys[3], 3); err == nil || IsNotExist(err) {
		t.Fatalf("ReadAll over the limit = %v: want a size error", err)
	}

	// List: prefix, order, startAfter, sizes.
	list := func(prefix, after string) []Object {
		t.Helper()
		var got []Object
		if err := b.List(ctx, prefix, after, func(o Object) error { got = append(got, o); return nil }); err != nil {
			t.Fatalf("List(%q, %q): %v", prefix, after, err)
		}
		return got
	}
	keysOf := func(objs []Object) string {
		var ks []string
		for _, o := range objs {
			ks = append(ks, o.Key)
		}
		return strings.Join(ks, ",")
	}
	all := list("", "")
	if got, want := keysOf(all), strings.Join([]string{keys[0], keys[1], keys[2], keys[3], keys[4]}, ","); got != want {
		t.Fatalf("List all = %s\nwant %s", got, want)
	}
	for _, o := range all {
		if o.Size <= 0 || o.LastModified.IsZero() {
			t.Errorf("List: %+v: want a size and a modification time", o)
		}
	}
	if got, want := keysOf(list("logs/20260101/", "")), keys[0]+","+keys[1]; got != want {
		t.Fatalf("List(prefix) = %s, want %s", got, want)
	}
	if got, want := keysOf(list("logs/", keys[1])), keys[2]+","+keys[3]; got != want {
		t.Fatalf("List(startAfter) = %s, want %s", got, want)
	}
	if got := list("nothing/", ""); len(got) != 0 {
		t.Fatalf("List(no match) = %v", got)
	}

	// An error from fn stops the listing.
	stop := errors.New("stop")
	n := 0
	if err := b.List(ctx, "", "", func(Object) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("List with a failing fn: err %v after %d calls", err, n)
	}

	// Delete, and deleting a missing key.
	if err := b.Delete(ctx, keys[0]); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, keys[0]); err != nil {
		t.Fatalf("Delete(missing) = %v: want nil", err)
	}
	if _, err := b.Get(ctx, keys[0]); !IsNotExist(err) {
		t.Fatalf("Get after Delete = %v", err)
	}

	// A larger object (several MiB, as Logpush batches are) round-trips.
	big := bytes.Repeat([]byte("0123456789abcdef"), 6<<20/16)
	if err := b.Put(ctx, "big/object.log.gz", big, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	rc, err := b.Get(ctx, "big/object.log.gz")
	if err != nil {
		t.Fatal(err)
	}
	n64, err := io.Copy(io.Discard, rc)
	rc.Close()
	if err != nil || n64 != int64(len(big)) {
		t.Fatalf("big object: read %d bytes, err %v", n64, err)
	}

	// Many objects: listing pages through them (providers page at 1000 or
	// 5000; 1100 crosses the S3 page size).
	if testing.Short() {
		return
	}
	for i := range 1100 {
		if err := b.Put(ctx, fmt.Sprintf("many/%05d", i), []byte{byte(i)}, PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := list("many/", ""); len(got) != 1100 || got[1099].Key != "many/01099" {
		t.Fatalf("List over pages: %d objects", len(got))
	}
	if got := list("many/", "many/00999"); len(got) != 100 || got[0].Key != "many/01000" {
		t.Fatalf("List over pages with startAfter: %d objects", len(got))
	}
}

func TestLocalBucket(t *testing.T) {
	b, err := Open(context.Background(), Config{Provider: ProviderFile, Dir: t.TempDir(), Bucket: "logs"})
	if err != nil {
		t.Fatal(err)
	}
	testBucket(t, b)
}

func TestLocalBucketRefusesEscapingKeys(t *testing.T) {
	dir := t.TempDir()
	b, err := Open(context.Background(), Config{Provider: ProviderFile, Dir: dir, Bucket: "logs"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, k := range []string{"", "/abs", "../escape", "a/../../escape", "a//b", "a/./b", "nul\x00"} {
		if err := b.Put(ctx, k, []byte("x"), PutOptions{}); err == nil {
			t.Errorf("Put(%q) succeeded", k)
		}
		if _, err := b.Get(ctx, k); err == nil {
			t.Errorf("Get(%q) succeeded", k)
		}
	}
	if _, err := os.Stat(dir + "/escape"); err == nil {
		t.Fatal("a key escaped the bucket directory")
	}
}
