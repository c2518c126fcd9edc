package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/alertd/alertd/bench/internal/alertload"
	"github.com/alertd/alertd/internal/testenv"
)

// machine is where and with what a run was made.
type machine struct {
	CPUs      int
	CPUModel  string
	Kernel    string
	GoVersion string
	// Load is /proc/loadavg's 1-minute figure when the run started: the
	// machine may be shared.
	Load string
	// Commit is alertd's git commit, "+changes" when the tree differs.
	Commit string
	Peers  []peer
}

// peer is a real component and its version.
type peer struct {
	Name, Package, Binary, Version string
}

// peerPackages returns the Debian packages the peers come from, in the
// order the report names them, with the program the scenarios run of each.
func peerPackages() []peer {
	return []peer{
		{Name: "Prometheus", Package: "prometheus", Binary: "prometheus"},
		{Name: "Alertmanager", Package: "prometheus-alertmanager", Binary: "prometheus-alertmanager"},
		{Name: "vmalert", Package: "victoria-metrics", Binary: "vmalert"},
	}
}

func readMachine(ctx context.Context) machine {
	m := machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), CPUModel: "unknown", Kernel: "unknown", Load: "unknown"}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.Join(strings.Fields(v), " ")
				break
			}
		}
		_ = f.Close()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			m.Load = f[0]
		}
	}
	m.Commit = gitCommit(ctx)
	for _, p := range peerPackages() {
		p.Version = packageVersion(ctx, p)
		m.Peers = append(m.Peers, p)
	}
	return m
}

// command runs name with args and returns its trimmed output, or "" if it
// fails.
func command(ctx context.Context, name string, args ...string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func gitCommit(ctx context.Context) string {
	c := command(ctx, "git", "rev-parse", "--short=12", "HEAD")
	if c == "" {
		return "unknown"
	}
	if command(ctx, "git", "status", "--porcelain", "--untracked-files=no") != "" {
		c += "+changes"
	}
	return c
}

// packageVersion is the installed Debian package's version, else the
// first line of the program's --version, else "unknown".
func packageVersion(ctx context.Context, p peer) string {
	if v := command(ctx, "dpkg-query", "-W", "-f=${Version}", p.Package); v != "" {
		return v
	}
	if bin, err := testenv.FindBinary(p.Binary); err == nil {
		if v := alertload.Version(ctx, bin); v != "" && v != "version unknown" {
			return v
		}
	}
	return "unknown"
}
