package parley

import "net/url"

// MaxWebhookURL caps the length of a webhook URL, in bytes.
const MaxWebhookURL = 2048

// ParseWebhookURL checks that raw can be a webhook's URL: an absolute
// http:// or https:// URL with a host, without user:password@ and without a
// #fragment, at most MaxWebhookURL bytes. Which addresses it may reach is
// not its business: see reply.DestinationPolicy.
func ParseWebhookURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return nil, Errorf(EInvalid, "url is required")
	case len(raw) > MaxWebhookURL:
		return nil, Errorf(EInvalid, "url is longer than %d bytes", MaxWebhookURL)
	case err == nil && u.User != nil: // checked first: the message must not repeat a password
		return nil, Errorf(EInvalid, "url must not contain a user name or password: receivers authenticate requests by their signature")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Fragment != "":
		return nil, Errorf(EInvalid, "url %q must be an absolute http:// or https:// URL without a #fragment", raw)
	}
	return u, nil
}
