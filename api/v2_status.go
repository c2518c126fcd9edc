package api

import (
	"net/http"

	"github.com/go-openapi/strfmt"
	"github.com/prometheus/alertmanager/api/v2/models"
	"github.com/prometheus/common/version"
)

// getStatus answers Alertmanager's status: clustering disabled (alertd
// runs alone), alertd's build information, the routing configuration in
// Alertmanager's syntax and the start time.
func (v *v2) getStatus(w http.ResponseWriter, _ *http.Request) {
	original := ""
	if v.o.ConfigYAML != nil {
		original = v.o.ConfigYAML()
	}
	uptime := strfmt.DateTime(v.o.StartTime)
	cluster := models.ClusterStatusStatusDisabled
	vi := &models.VersionInfo{
		Version:   ptr(version.Version),
		Revision:  ptr(version.GetRevision()),
		Branch:    ptr(version.Branch),
		BuildUser: ptr(version.BuildUser),
		BuildDate: ptr(version.BuildDate),
		GoVersion: ptr(version.GoVersion),
	}
	writeV2(w, http.StatusOK, &models.AlertmanagerStatus{
		Cluster:     &models.ClusterStatus{Status: &cluster, Peers: []*models.PeerStatus{}},
		Config:      &models.AlertmanagerConfig{Original: &original},
		Uptime:      &uptime,
		VersionInfo: vi,
	})
}

// getReceivers lists the configured receivers by name.
func (v *v2) getReceivers(w http.ResponseWriter, _ *http.Request) {
	res := []*models.Receiver{}
	if v.o.Receivers != nil {
		for _, name := range v.o.Receivers() {
			res = append(res, &models.Receiver{Name: ptr(name)})
		}
	}
	writeV2(w, http.StatusOK, res)
}

func ptr[T any](v T) *T { return &v }
