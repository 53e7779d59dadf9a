package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/parleyhq/parley"
)

const keysUsage = `keys <create|list|revoke> [flags]

  parley keys create --workspace NAME --role widget|agent|admin [--name LABEL] [--origin URL]...
      Creates the workspace if needed and prints a new key. The key is shown
      once, alone on the last line. A widget key with --origin (repeatable)
      is publishable: for web pages on those origins, widget routes only.
  parley keys list [--workspace NAME]
  parley keys revoke ID|PREFIX`

func runKeys(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 {
		fmt.Fprintf(a.stderr, "Usage: parley %s\n", keysUsage)
		return usageError("keys needs a subcommand: create, list or revoke")
	}
	switch args[0] {
	case "create":
		return keysCreate(ctx, a, args[1:])
	case "list":
		return keysList(ctx, a, args[1:])
	case "revoke":
		return keysRevoke(ctx, a, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintf(a.stdout, "Usage: parley %s\n", keysUsage)
		return nil
	}
	return usageError(fmt.Sprintf("unknown keys subcommand %q: use create, list or revoke", args[0]))
}

func keysCreate(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "keys create", "keys create --workspace NAME --role widget|agent|admin [--name LABEL] [--origin URL]...")
	workspace := fs.String("workspace", a.cfg.Workspace, "workspace `name` (created if missing; env PARLEY_WORKSPACE)")
	roleName := fs.String("role", "", "key `role`: widget (answer only), agent (plus conversations, escalations, assist) or admin (everything)")
	name := fs.String("name", "", "a `label` to recognise the key by")
	var origins []string
	fs.Func("origin", "a web `origin` (https://shop.example) a publishable widget key may be used from; repeatable", func(v string) error {
		origins = append(origins, v)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *roleName == "" {
		fs.Usage()
		return usageError("--role is required")
	}
	role, err := parley.ParseRole(*roleName)
	if err != nil {
		return err
	}
	if len(origins) > 0 && role != parley.RoleWidget {
		return usageError("--origin makes a publishable widget key: use it with --role widget")
	}
	if origins, err = parley.CheckOrigins(origins); err != nil {
		return err
	}
	db, err := openMigratedDB(ctx, a)
	if err != nil {
		return err
	}
	defer db.Close()
	ws, created, err := db.EnsureWorkspace(ctx, *workspace)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(a.stderr, "created workspace %s\n", ws.Name)
	}
	var (
		k      parley.APIKey
		secret string
	)
	if len(origins) > 0 {
		k, secret, err = db.CreateWidgetKey(ctx, ws.ID, *name, origins)
	} else {
		k, secret, err = db.CreateKey(ctx, ws.ID, *name, role)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "created %s key %s (id %s) for workspace %s; it is shown once:\n", k.Role, k.Prefix, k.ID, ws.Name)
	fmt.Fprintln(a.stdout, secret)
	return nil
}

func keysList(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "keys list", "keys list [--workspace NAME]")
	workspace := fs.String("workspace", "", "list only this workspace's keys, by `name` (default: all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := openMigratedDB(ctx, a)
	if err != nil {
		return err
	}
	defer db.Close()
	var wsID string
	if *workspace != "" {
		ws, err := db.WorkspaceByName(ctx, *workspace)
		if err != nil {
			return err
		}
		wsID = ws.ID
	}
	keys, err := db.ListKeys(ctx, wsID)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKSPACE\tPREFIX\tROLE\tNAME\tCREATED\tLAST USED\tSTATUS\tID")
	for _, k := range keys {
		status := "active"
		if k.RevokedAt != nil {
			status = "revoked " + k.RevokedAt.Format(time.DateOnly)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.Workspace, k.Prefix, k.Role, k.Name,
			k.CreatedAt.Format(time.DateTime), formatTime(k.LastUsedAt), status, k.ID)
	}
	return tw.Flush()
}

func keysRevoke(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "keys revoke", "keys revoke ID|PREFIX\n\nRevokes a key, named by its id or its prefix (both shown by parley keys list).")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageError("keys revoke takes one key id or prefix")
	}
	db, err := openMigratedDB(ctx, a)
	if err != nil {
		return err
	}
	defer db.Close()
	k, err := db.RevokeKey(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "revoked %s key %s of workspace %s\n", k.Role, k.Prefix, k.Workspace)
	return nil
}

func formatTime(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.Format(time.DateTime)
}
