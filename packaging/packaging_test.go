// Package packaging_test checks the files of packaging/: the Dockerfile
// (no container engine runs in CI, so it is parsed: stages, instructions,
// the paths it copies) and the systemd unit.
package packaging_test

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const root = ".." // the repository, the Dockerfile's build context

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int
	cmd  string // upper case: FROM, RUN, COPY, …
	args string
}

// stage is a FROM and what follows it.
type stage struct {
	image, name string
	ins         []instruction
}

func parseDockerfile(t *testing.T, file string) (globalArgs []instruction, stages []*stage) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	var cur strings.Builder
	start, n := 0, 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		if strings.HasPrefix(line, "#") { // a comment inside a continued instruction
			continue
		}
		if s, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		cur.Reset()
		in := instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		switch {
		case in.cmd == "FROM":
			f := strings.Fields(in.args)
			s := &stage{image: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			}
			stages = append(stages, s)
		case len(stages) == 0:
			if in.cmd != "ARG" {
				t.Errorf("%s:%d: %s before the first FROM", file, in.line, in.cmd)
			}
			globalArgs = append(globalArgs, in)
		default:
			stages[len(stages)-1].ins = append(stages[len(stages)-1].ins, in)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur.Len() > 0 {
		t.Errorf("%s ends inside a continued instruction", file)
	}
	return globalArgs, stages
}

func (s *stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.ins {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// TestDockerfile checks the multi-stage build: a Go build stage on the Go
// version of go.mod building a static alertd, and a small final stage that
// runs it as a non-root user with a volume for the state and port 9095;
// every path it copies from the context exists and is not excluded.
func TestDockerfile(t *testing.T) {
	const file = "Dockerfile"
	args, stages := parseDockerfile(t, file)
	if len(stages) < 2 {
		t.Fatalf("%s has %d stages, want a build stage and a final one", file, len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]

	// The build stage: golang, at go.mod's version.
	if !strings.HasPrefix(build.image, "golang:") || build.name == "" {
		t.Errorf("%s: the first stage is FROM %s AS %q, want golang:… AS <name>", file, build.image, build.name)
	}
	goVersion := goModVersion(t)
	var argVersion string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a.args, "GO_VERSION="); ok {
			argVersion = strings.Trim(v, `"`)
		}
	}
	if argVersion != goVersion || !strings.Contains(build.image, "${GO_VERSION}") {
		t.Errorf("%s: the build stage's Go is %q (ARG GO_VERSION) in %s, want go.mod's %q", file, argVersion, build.image, goVersion)
	}
	var builds bool
	for _, in := range build.all("RUN") {
		if strings.Contains(in.args, "go build") && strings.Contains(in.args, "./cmd/alertd") && strings.Contains(in.args, "CGO_ENABLED=0") {
			builds = true
		}
	}
	if !builds {
		t.Errorf("%s: no RUN in the build stage does CGO_ENABLED=0 go build … ./cmd/alertd (a static binary for distroless/static)", file)
	}

	// The final stage: small, non-root, a volume, the port.
	debianSlim := strings.Contains(final.image, "debian") && strings.Contains(final.image, "slim")
	if !strings.Contains(final.image, "distroless/static") && !debianSlim {
		t.Errorf("%s: the final stage is FROM %s, want distroless/static or debian-slim", file, final.image)
	}
	users := final.all("USER")
	if len(users) == 0 {
		t.Errorf("%s: the final stage sets no USER (it would run as root)", file)
	}
	for _, u := range users {
		if name, _, _ := strings.Cut(u.args, ":"); name == "0" || name == "root" {
			t.Errorf("%s:%d: USER %s is root", file, u.line, u.args)
		}
	}
	var volumes []string
	for _, v := range final.all("VOLUME") {
		volumes = append(volumes, jsonOrFields(t, file, v)...)
	}
	if len(volumes) == 0 {
		t.Errorf("%s: the final stage has no VOLUME for the state", file)
	}
	if !slices.ContainsFunc(final.all("EXPOSE"), func(in instruction) bool { return slices.Contains(strings.Fields(in.args), "9095") }) {
		t.Errorf("%s: the final stage does not EXPOSE 9095", file)
	}
	entry := final.all("ENTRYPOINT")
	cmds := final.all("CMD")
	if len(entry) != 1 || len(cmds) != 1 {
		t.Fatalf("%s: the final stage needs one ENTRYPOINT and one CMD (exec form), has %d and %d", file, len(entry), len(cmds))
	}
	if e := jsonOrFields(t, file, entry[0]); len(e) != 1 || path.Base(e[0]) != "alertd" {
		t.Errorf("%s:%d: ENTRYPOINT %s, want the alertd binary alone", file, entry[0].line, entry[0].args)
	}
	cmd := jsonOrFields(t, file, cmds[0])
	if len(cmd) == 0 || cmd[0] != "run" {
		t.Errorf("%s:%d: CMD %s does not start with run", file, cmds[0].line, cmds[0].args)
	}
	flags := runFlags(t)
	copied := map[string]bool{} // destinations of COPY in the final stage
	for _, arg := range cmd[1:] {
		name, value, _ := strings.Cut(arg, "=")
		if !flags[name] {
			t.Errorf("%s:%d: CMD passes %s, which alertd run does not have", file, cmds[0].line, name)
		}
		if name == "--storage.path" && !slices.Contains(volumes, value) {
			t.Errorf("%s: --storage.path=%s is not a VOLUME (%v)", file, value, volumes)
		}
		if name == "--config.file" {
			defer func() {
				if !copied[value] {
					t.Errorf("%s: --config.file=%s is not copied into the image", file, value)
				}
			}()
		}
	}

	// Every COPY: from an earlier stage, or from paths of the context
	// that exist and that the .dockerignore does not exclude.
	ignore := dockerignore(t, file+".dockerignore")
	names := map[string]bool{}
	for i, s := range stages {
		for _, in := range s.all("COPY") {
			f := strings.Fields(in.args)
			var from string
			for len(f) > 0 && strings.HasPrefix(f[0], "--") {
				if v, ok := strings.CutPrefix(f[0], "--from="); ok {
					from = v
				}
				f = f[1:]
			}
			if len(f) < 2 {
				t.Errorf("%s:%d: COPY %s has no source and destination", file, in.line, in.args)
				continue
			}
			srcs, dst := f[:len(f)-1], f[len(f)-1]
			if i == len(stages)-1 {
				copied[dst] = true
			}
			if from != "" {
				if !names[from] {
					t.Errorf("%s:%d: COPY --from=%s: no earlier stage is named so", file, in.line, from)
				}
				continue
			}
			for _, src := range srcs {
				checkContextPath(t, file, in.line, src, ignore)
			}
		}
		names[s.name] = true
	}
}

// checkContextPath checks that src, a COPY source, exists in the build
// context and is not excluded by the .dockerignore patterns.
func checkContextPath(t *testing.T, file string, line int, src string, ignore []string) {
	t.Helper()
	if src == "." {
		return
	}
	matches, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(strings.TrimSuffix(src, "/"))))
	if err != nil || len(matches) == 0 {
		t.Errorf("%s:%d: COPY source %s does not exist in the build context (the repository's root)", file, line, src)
		return
	}
	clean := path.Clean(src)
	for _, p := range ignore {
		if ok, _ := path.Match(p, clean); ok || strings.HasPrefix(clean, p+"/") {
			t.Errorf("%s:%d: COPY source %s is excluded by the .dockerignore pattern %q", file, line, src, p)
		}
	}
}

// jsonOrFields reads an instruction's arguments in exec (JSON) form, or
// as words.
func jsonOrFields(t *testing.T, file string, in instruction) []string {
	t.Helper()
	if strings.HasPrefix(in.args, "[") {
		var out []string
		if err := json.Unmarshal([]byte(in.args), &out); err != nil {
			t.Errorf("%s:%d: %s %s: %v", file, in.line, in.cmd, in.args, err)
		}
		return out
	}
	return strings.Fields(in.args)
}

func dockerignore(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (BuildKit reads it for packaging/Dockerfile: without it the context holds bin/ and .git)", err)
	}
	var out []string
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, path.Clean(line))
		}
	}
	return out
}

func goModVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "go "); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatal("go.mod has no go directive")
	return ""
}

var cliFlagRow = regexp.MustCompile("^\\| `(--[a-z0-9.-]+)`")

// runFlags returns the flags of alertd run, as docs/cli.md lists them (a
// test in cmd/alertd holds that list to the code).
func runFlags(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "docs", "cli.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, run, ok := strings.Cut(string(b), "### `alertd run`\n")
	if !ok {
		t.Fatal("docs/cli.md has no section for alertd run")
	}
	if i := strings.Index(run, "\n### "); i >= 0 {
		run = run[:i]
	}
	flags := map[string]bool{}
	for line := range strings.SplitSeq(run, "\n") {
		if m := cliFlagRow.FindStringSubmatch(line); m != nil {
			flags[m[1]] = true
		}
	}
	if len(flags) < 5 {
		t.Fatalf("docs/cli.md lists only %d flags of alertd run", len(flags))
	}
	return flags
}

// unit is a systemd unit file: section → key → values, in order.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, file string) unit {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	u := unit{}
	section := ""
	var cont string
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if cont != "" {
			line = cont + " " + line
			cont = ""
		}
		if s, ok := strings.CutSuffix(line, `\`); ok {
			cont = strings.TrimSpace(s)
			continue
		}
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Errorf("%s:%d: %q is not key=value in a section", file, i+1, line)
				continue
			}
			u[section][k] = append(u[section][k], strings.Join(strings.Fields(v), " "))
		}
	}
	return u
}

// TestSystemdUnit checks alertd.service: a simple service whose reload is
// SIGHUP, whose state is its StateDirectory, hardened; and, where
// systemd-analyze is installed, that systemd accepts it.
func TestSystemdUnit(t *testing.T) {
	const file = "alertd.service"
	u := parseUnit(t, file)
	svc := u["Service"]
	if svc == nil {
		t.Fatalf("%s has no [Service]", file)
	}
	want := map[string]string{
		"Type":                    "simple",
		"ExecReload":              "/bin/kill -HUP $MAINPID",
		"StateDirectory":          "alertd",
		"NoNewPrivileges":         "yes",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"PrivateDevices":          "yes",
		"ProtectKernelTunables":   "yes",
		"ProtectKernelModules":    "yes",
		"ProtectControlGroups":    "yes",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
		"CapabilityBoundingSet":   "",
	}
	for k, v := range want {
		if got := svc[k]; !slices.Contains(got, v) {
			t.Errorf("%s: [Service] %s=%v, want %q", file, k, got, v)
		}
	}
	if !slices.Contains(svc["DynamicUser"], "yes") && len(svc["User"]) == 0 {
		t.Errorf("%s: neither DynamicUser=yes nor a User: alertd would run as root", file)
	}
	if !slices.Contains(u["Install"]["WantedBy"], "multi-user.target") {
		t.Errorf("%s: [Install] WantedBy=%v, want multi-user.target", file, u["Install"]["WantedBy"])
	}
	exec := svc["ExecStart"]
	if len(exec) != 1 {
		t.Fatalf("%s: ExecStart=%v, want one", file, exec)
	}
	argv := strings.Fields(exec[0])
	if path.Base(argv[0]) != "alertd" || len(argv) < 2 || argv[1] != "run" {
		t.Fatalf("%s: ExecStart=%s, want alertd run …", file, exec[0])
	}
	flags := runFlags(t)
	var storage string
	for _, a := range argv[2:] {
		name, value, _ := strings.Cut(a, "=")
		if !flags[name] {
			t.Errorf("%s: ExecStart passes %s, which alertd run does not have", file, name)
		}
		if name == "--storage.path" {
			storage = value
		}
	}
	if storage != "/var/lib/"+svc["StateDirectory"][0] {
		t.Errorf("%s: --storage.path=%s, want the StateDirectory /var/lib/%s", file, storage, svc["StateDirectory"][0])
	}
	verifyUnit(t, file, argv[0])
}

// verifyUnit runs systemd-analyze verify on a copy of the unit whose
// binary is an executable that exists (this test's own), since verify
// checks that ExecStart's program does.
func verifyUnit(t *testing.T, file, bin string) {
	t.Helper()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Logf("systemd-analyze is not installed (Debian's systemd package): the unit was parsed, not verified")
		return
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), file)
	if err := os.WriteFile(copyPath, []byte(strings.ReplaceAll(string(b), bin, self)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(t.Context(), analyze, "verify", copyPath).CombinedOutput()
	if err != nil || strings.Contains(string(out), file) {
		t.Errorf("systemd-analyze verify %s: %v\n%s", file, err, out)
	}
}
