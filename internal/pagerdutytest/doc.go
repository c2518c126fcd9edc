// Package pagerdutytest is test support: a fake PagerDuty Events API v2 on
// 127.0.0.1 that checks the API's contract as PagerDuty does (refusing
// with 400 and PagerDuty's error object what PagerDuty would refuse), keeps
// the events it accepts, and answers as the test queues.
//
// It is imported only by _test.go files and benchmark code, never by
// alertd's production packages. Of alertd's own it imports only
// internal/notifytest, for the outcomes a test queues.
package pagerdutytest
