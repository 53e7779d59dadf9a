package parley

import "time"

// SessionLimits say when a console session ends: after Idle without a
// request, or Max after sign-in, whichever comes first.
type SessionLimits struct {
	Idle time.Duration
	Max  time.Duration
}

// Default console session limits.
const (
	DefaultSessionIdle = 12 * time.Hour
	DefaultSessionMax  = 7 * 24 * time.Hour
)

// WithDefaults returns the limits with fields that are not positive set to
// DefaultSessionIdle and DefaultSessionMax.
func (l SessionLimits) WithDefaults() SessionLimits {
	if l.Idle <= 0 {
		l.Idle = DefaultSessionIdle
	}
	if l.Max <= 0 {
		l.Max = DefaultSessionMax
	}
	return l
}
