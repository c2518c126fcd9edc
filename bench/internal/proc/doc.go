// Package proc reads what a process measured by a benchmark harness uses —
// CPU time, resident memory and its high-water mark — from Linux's /proc,
// alone or over a window of time, and finds the process a library started
// on the harness's behalf.
//
// It is imported only by the programs under bench/ and imports nothing of
// alertd's own.
package proc
