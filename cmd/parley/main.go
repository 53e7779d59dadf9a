// Command parley is the Parley server and its tools: one binary with
// subcommands. It is the only place that reads the environment.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/parleyhq/parley/ctxlog"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

const usage = `parley: the AI reply copilot for customer conversations.

Usage:
  parley <command> [flags]

Commands:
  serve     run the HTTP API
  migrate   apply database migrations
  ingest    load FAQs, articles, PDFs and resolved conversations, or crawl a website, into a knowledge base
  sync      sync a knowledge base with its website again
  eval      run an eval suite: precision, coverage, escalation, calibration
  bench     measure the answer path: engine against bare search, and HTTP load
  keys      create, list and revoke API keys
  demo-page serve a sample shop page that embeds the chat widget (another origin)
  version   print the version

Run "parley <command> --help" for a command's flags.
Configuration comes from PARLEY_* environment variables (see README.md).
`

// app is what every command gets: configuration and where to write.
type app struct {
	cfg    Config
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
}

type command func(ctx context.Context, a *app, args []string) error

var commands = map[string]command{
	"serve":     runServe,
	"ingest":    runIngest,
	"sync":      runSync,
	"eval":      runEval,
	"bench":     runBench,
	"migrate":   runMigrate,
	"keys":      runKeys,
	"demo-page": runDemoPage,
	"version":   runVersion,
}

func main() { os.Exit(runProcess(os.Args[1:])) }

// runProcess runs a command line as the process: with its environment and
// standard streams, stopped by SIGINT or SIGTERM. It returns the exit code.
func runProcess(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, args, os.Getenv, os.Stdout, os.Stderr)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "parley:", err)
	}
	return exitCode(err)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprint(stderr, usage)
		return usageError(fmt.Sprintf("unknown command %q", args[0]))
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	a := &app{cfg: cfg, stdout: stdout, stderr: stderr, log: newLogger(cfg, stderr)}
	return cmd(ctx, a, args[1:])
}

// newLogger returns the process's logger: a line logged with a request's
// context carries its id and workspace (ctxlog), whichever package logs it.
func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if cfg.LogFormat == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(ctxlog.NewHandler(h))
}

// usageError is a mistake in the command line: exit code 2.
type usageError string

func (e usageError) Error() string { return string(e) }

// exitCode is the process status for a command's error: 0 for none and for
// --help (flag.ErrHelp: the usage was asked for and printed), 2 for a
// mistake in the command line, 1 otherwise.
func exitCode(err error) int {
	var u usageError
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &u):
		return 2
	}
	return 1
}

// flagSet is a flag.FlagSet with the CLI's conventions: Parse returns
// errors instead of exiting; --help prints the usage to stdout and returns
// flag.ErrHelp (exit 0); a wrong flag prints it to stderr and returns a
// usageError (exit 2).
type flagSet struct {
	*flag.FlagSet
	stdout, stderr io.Writer
}

// newFlags returns the flag set of the command "parley synopsis".
func newFlags(a *app, name, synopsis string) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), stdout: a.stdout, stderr: a.stderr}
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: parley %s\n", synopsis)
		flags := 0
		fs.VisitAll(func(*flag.Flag) { flags++ })
		if flags > 0 {
			fmt.Fprint(out, "\nFlags:\n")
			fs.PrintDefaults()
		}
		if name != "version" {
			fmt.Fprint(out, "\nSettings come from PARLEY_* environment variables (README.md, Configuration).\n")
		}
	}
	return fs
}

// Parse parses args; the usage goes to stdout when asked for, to stderr
// after a mistake.
func (fs *flagSet) Parse(args []string) error {
	var msg bytes.Buffer
	fs.SetOutput(&msg)
	err := fs.FlagSet.Parse(args)
	fs.SetOutput(fs.stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		_, _ = msg.WriteTo(fs.stdout)
		return err
	case err != nil:
		_, _ = msg.WriteTo(fs.stderr)
		return usageError(err.Error())
	}
	return nil
}

func runVersion(_ context.Context, a *app, args []string) error {
	fs := newFlags(a, "version", "version\n\nPrints the module version and the VCS revision it was built from.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "parley", version)
	return nil
}

// version describes the running binary (`parley version`, the start log
// line, the API's version header).
var version = buildVersion()

// buildVersion reads the binary's build info: module version, VCS revision
// and time, whether the tree had local changes, and the Go version.
func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(no build info)"
	}
	line := info.Main.Version
	var rev, at, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = " (modified)"
			}
		}
	}
	if rev != "" {
		line += " " + rev + " " + at + dirty
	}
	return line + " " + info.GoVersion
}

// reorderFlags moves flags before positional arguments, so flags may follow
// paths (parley ingest faq.csv --kb help): the flag package stops at the
// first non-flag argument.
func reorderFlags(fs *flagSet, args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			rest = append(rest, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			rest = append(rest, arg)
			continue
		}
		flags = append(flags, arg)
		name := strings.TrimLeft(arg, "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue // Parse reports it
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	return append(append(flags, "--"), rest...)
}
