package app

import (
	"github.com/alertd/alertd/eval"
	"github.com/alertd/alertd/store"
)

// alertStateBucket is the store bucket of the evaluator's alert state, by
// group key.
const alertStateBucket = "alert_state"

// alertState is the eval.StateStore of the store.
type alertState struct{ s *store.Store }

var _ eval.StateStore = alertState{}

func (a alertState) Load() (map[string][]byte, error) {
	out := map[string][]byte{}
	err := a.s.ForEach(alertStateBucket, func(k string, v []byte) error {
		out[k] = append([]byte(nil), v...)
		return nil
	})
	return out, err
}

func (a alertState) Save(key string, state []byte) error {
	// Batched: the groups evaluating at the same moment share one
	// transaction and one fsync.
	return a.s.Put(alertStateBucket, key, state)
}

func (a alertState) Delete(keys []string) error {
	return a.s.Update(alertStateBucket, nil, keys)
}
