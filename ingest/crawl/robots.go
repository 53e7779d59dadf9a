package crawl

import (
	"bufio"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// robots is what a site's robots.txt says to this crawler (RFC 9309): the
// rules of the group for its user agent, else of the "*" group, the crawl
// delay of that group, and the sitemaps it lists.
type robots struct {
	rules    []robotsRule
	delay    time.Duration
	sitemaps []string
}

type robotsRule struct {
	allow bool
	n     int            // the pattern's length: the longest match wins
	re    *regexp.Regexp // the pattern: "*" wildcards, a final "$"
}

// parseRobots reads a robots.txt for the product token agent ("parleybot").
func parseRobots(r io.Reader, agent string) *robots {
	agent = strings.ToLower(agent)
	type group struct {
		agents []string
		rules  []robotsRule
		delay  time.Duration
	}
	var groups []*group
	var cur *group
	inAgents := false // the lines before were user-agent lines
	out := &robots{}
	sc := bufio.NewScanner(io.LimitReader(r, maxRobotsBytes))
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key = strings.ToLower(strings.TrimSpace(key))
		value = strings.TrimSpace(value)
		switch key {
		case "user-agent":
			if !inAgents {
				cur = &group{}
				groups = append(groups, cur)
			}
			cur.agents = append(cur.agents, strings.ToLower(value))
			inAgents = true
			continue
		case "allow", "disallow":
			if cur != nil && value != "" {
				cur.rules = append(cur.rules, robotsRule{allow: key == "allow", n: len(value), re: robotsPattern(value)})
			}
		case "crawl-delay":
			if secs, err := strconv.ParseFloat(value, 64); err == nil && cur != nil && secs > 0 {
				cur.delay = time.Duration(min(secs, 60) * float64(time.Second))
			}
		case "sitemap":
			out.sitemaps = append(out.sitemaps, value)
		}
		inAgents = false
	}
	var mine, star *group
	for _, g := range groups {
		for _, a := range g.agents {
			switch {
			case a == "*" && star == nil:
				star = g
			case a != "*" && strings.Contains(agent, a) && mine == nil:
				mine = g
			}
		}
	}
	if mine == nil {
		mine = star
	}
	if mine != nil {
		out.rules, out.delay = mine.rules, mine.delay
	}
	return out
}

// maxRobotsBytes is the most of a robots.txt that is read (RFC 9309 asks
// crawlers to read at least 500 KiB).
const maxRobotsBytes = 512 << 10

// allowed reports whether path (with its query) may be fetched: the
// longest matching rule wins, and allow wins a tie.
func (r *robots) allowed(path string) bool {
	if r == nil {
		return true
	}
	best, allow := -1, true
	for _, rule := range r.rules {
		if !rule.re.MatchString(path) {
			continue
		}
		if rule.n > best || (rule.n == best && rule.allow) {
			best, allow = rule.n, rule.allow
		}
	}
	return allow
}

// robotsPattern compiles a robots.txt path pattern: a prefix, with "*"
// for any run of characters and a final "$" for the end of the path.
func robotsPattern(pattern string) *regexp.Regexp {
	anchored := strings.HasSuffix(pattern, "$")
	parts := strings.Split(strings.TrimSuffix(pattern, "$"), "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	expr := "^" + strings.Join(parts, ".*")
	if anchored {
		expr += "$"
	}
	return regexp.MustCompile(expr)
}
