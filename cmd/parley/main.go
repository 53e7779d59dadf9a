// Command parley is the Parley server and its tools: one binary with
// subcommands. It is the only place that reads the environment.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `parley: the AI reply copilot for customer conversations.

Usage:
  parley <command> [flags]

Commands:
  serve     run the HTTP API
  migrate   apply database migrations
  ingest    load FAQs, articles and resolved conversations into a knowledge base
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
	if err := run(ctx, args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "parley:", err)
		}
		return exitCode(err)
	}
	return 0
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

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// usageError is a mistake in the command line: exit code 2.
type usageError string

func (e usageError) Error() string { return string(e) }

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

// newFlags returns a flag set that prints its usage to stderr and returns
// errors instead of exiting.
func newFlags(a *app, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.Usage = func() {
		fmt.Fprintf(a.stderr, "Usage: parley %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func runVersion(_ context.Context, a *app, args []string) error {
	fs := newFlags(a, "version", "version")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "parley", version)
	return nil
}

// reorderFlags moves flags before positional arguments, so flags may follow
// paths (parley ingest faq.csv --kb help): the flag package stops at the
// first non-flag argument.
func reorderFlags(fs *flag.FlagSet, args []string) []string {
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
