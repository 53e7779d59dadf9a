package reply

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

// DestinationPolicy decides which addresses webhook events may be sent to.
// The zero value allows public addresses only, so that whoever sets a
// webhook cannot have Parley reach into the network it runs in (SSRF). It
// refuses loopback, private (RFC 1918, fc00::/7), link-local
// (169.254.0.0/16, where cloud metadata services answer, and fe80::/10),
// unspecified, multicast and carrier-grade NAT (100.64.0.0/10) addresses,
// IPv4-mapped IPv6 forms included.
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

var carrierGradeNAT = netip.MustParsePrefix("100.64.0.0/10")

// CheckAddr returns why webhook events may not be sent to ip, or nil.
func (p DestinationPolicy) CheckAddr(ip netip.Addr) error {
	if p.AllowPrivate {
		return nil
	}
	ip = ip.Unmap()
	var kind string
	switch {
	case !ip.IsValid():
		return errors.New("no IP address to check")
	case ip.IsUnspecified():
		kind = "an unspecified"
	case ip.IsLoopback():
		kind = "a loopback"
	case ip.IsPrivate():
		kind = "a private"
	case ip.IsLinkLocalUnicast():
		kind = "a link-local"
	case ip.IsMulticast():
		kind = "a multicast"
	case carrierGradeNAT.Contains(ip):
		kind = "a carrier-grade NAT"
	default:
		return nil
	}
	return fmt.Errorf("%s is %s address, and webhooks are only sent to public addresses", ip, kind)
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

// control is the Deliverer's net.Dialer Control: it sees the address each
// connection is about to be made to, after any name was resolved.
func (p DestinationPolicy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("check webhook destination %q: %w", address, err)
	}
	return p.CheckAddr(ap.Addr())
}
