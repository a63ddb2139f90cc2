package testkit

import (
	"fmt"
	"net"
	"testing"
)

// FreeAddr returns a loopback host:port nothing listened on a moment ago.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// MustFreeAddr is FreeAddr failing tb when no port can be had.
func MustFreeAddr(tb testing.TB) string {
	tb.Helper()
	addr, err := FreeAddr()
	if err != nil {
		tb.Fatal(err)
	}
	return addr
}

// MustFreePort is MustFreeAddr's port alone.
func MustFreePort(tb testing.TB) string {
	tb.Helper()
	_, port, err := net.SplitHostPort(MustFreeAddr(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return port
}
