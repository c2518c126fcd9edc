// Package slackapitest is test support: Slack on 127.0.0.1, slack-go's
// slacktest server with handlers of its own for incoming webhooks,
// chat.postMessage and chat.update, which check the API contract the way
// Slack and slack-go use it, keep the posted messages (so that chat.update
// of an unknown one is message_not_found) and answer as the test queues.
// Contract violations fail the test when it ends.
//
// It is imported only by _test.go files and benchmark code, never by
// alertd's production packages. It imports nothing of alertd's own.
package slackapitest
