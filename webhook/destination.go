package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"github.com/parleyhq/parley"
)

// DestinationPolicy decides which addresses webhook events may be sent to,
// and which the web crawler may fetch pages from.
// The zero value allows public addresses only, so that whoever sets a
// webhook cannot have Parley reach into the network it runs in (SSRF). It
// refuses loopback, private (RFC 1918, fc00::/7), link-local
// (169.254.0.0/16, where cloud metadata services answer, and fe80::/10),
// unspecified, multicast, carrier-grade NAT (100.64.0.0/10) and reserved
// addresses (this network, documentation, benchmarking, class E), their
// IPv4-mapped forms, and NAT64 and 6to4 addresses carrying any of them.
//
// The API checks a URL when it is set (CheckURL); the Deliverer checks the
// address of every connection it opens, since a name may resolve
// differently by then (DNS rebinding).
type DestinationPolicy struct {
	// AllowPrivate allows every address, and names that do not resolve:
	// for receivers inside the network (on premises) and for tests.
	AllowPrivate bool
}

// resolveTimeout bounds the lookup of a webhook URL's host when it is set.
const resolveTimeout = 3 * time.Second

var (
	carrierGradeNAT = netip.MustParsePrefix("100.64.0.0/10")
	// reserved are ranges no public receiver lives in: "this network",
	// IETF protocol assignments, documentation, benchmarking, and the
	// reserved class E with the broadcast address.
	reserved = []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/8"), netip.MustParsePrefix("192.0.0.0/24"),
		netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.18.0.0/15"),
		netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24"),
		netip.MustParsePrefix("240.0.0.0/4"), netip.MustParsePrefix("2001:db8::/32"),
	}
	// nat64 and sixToFour are IPv6 ranges that carry an IPv4 address,
	// which is checked in turn: a gateway would forward to it.
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// CheckAddr returns why ip may not be reached, or nil.
func (p DestinationPolicy) CheckAddr(ip netip.Addr) error {
	if p.AllowPrivate {
		return nil
	}
	ip = ip.Unmap()
	if !ip.IsValid() {
		return errors.New("no IP address to check")
	}
	if inner, ok := embeddedIPv4(ip); ok {
		if kind := addrKind(inner); kind != "" {
			return fmt.Errorf("%s carries %s, %s address, and only public addresses may be reached", ip, inner, kind)
		}
		return nil
	}
	if kind := addrKind(ip); kind != "" {
		return fmt.Errorf("%s is %s address, and only public addresses may be reached", ip, kind)
	}
	return nil
}

// addrKind names the class of a non-public address ("a loopback"), or
// returns "" for a public one.
func addrKind(ip netip.Addr) string {
	switch {
	case ip.IsUnspecified():
		return "an unspecified"
	case ip.IsLoopback():
		return "a loopback"
	case ip.IsPrivate():
		return "a private"
	case ip.IsLinkLocalUnicast():
		return "a link-local"
	case ip.IsMulticast():
		return "a multicast"
	case carrierGradeNAT.Contains(ip):
		return "a carrier-grade NAT"
	}
	for _, r := range reserved {
		if r.Contains(ip) {
			return "a reserved"
		}
	}
	return ""
}

// embeddedIPv4 returns the IPv4 address a NAT64 or 6to4 address carries.
func embeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	b := ip.As16()
	switch {
	case nat64.Contains(ip):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(ip):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

// CheckURL checks a webhook URL as it is set: the rules of
// parley.ParseWebhookURL, then the address of its host, or every address
// its name resolves to now, which must resolve. Errors are *parley.Error.
func (p DestinationPolicy) CheckURL(ctx context.Context, raw string) error {
	u, err := parley.ParseWebhookURL(raw)
	if err != nil || p.AllowPrivate {
		return err
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if err := p.CheckAddr(ip); err != nil {
			return parley.Errorf(parley.EInvalid, "url %q is refused: %v", raw, err)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	var dnsErr *net.DNSError
	switch {
	case (errors.As(err, &dnsErr) && dnsErr.IsNotFound) || (err == nil && len(addrs) == 0):
		return parley.Errorf(parley.EInvalid, "url %q is refused: its host %q does not resolve to an address", raw, host)
	case err != nil:
		return parley.Errorf(parley.EInvalid, "url %q is refused: its host %q could not be resolved now; try again later", raw, host)
	}
	for _, ip := range addrs {
		if err := p.CheckAddr(ip); err != nil {
			return parley.Errorf(parley.EInvalid, "url %q is refused: its host %q resolves to %s; %v", raw, host, ip.Unmap(), err)
		}
	}
	return nil
}

// Control is a net.Dialer Control that refuses connections to addresses
// the policy does not allow: it sees the address each connection is about
// to be made to, after any name was resolved. The Deliverer and the web
// crawler (ingest/crawl) dial through it.
func (p DestinationPolicy) Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("check destination %q: %w", address, err)
	}
	return p.CheckAddr(ap.Addr())
}
