package ops

import (
	"net"
	"net/netip"
)

// BrowseURL is the http:// base URL a person on this machine can open for a
// listen address: an unspecified host (":8080", "[::]:8080",
// "0.0.0.0:8080") becomes localhost; a specific host is kept (IPv6 in
// brackets). An address that is not host:port is returned after "http://"
// unchanged.
func BrowseURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip, err := netip.ParseAddr(host); host == "" || (err == nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
