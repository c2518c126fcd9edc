package slack

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"github.com/alertd/alertd/notify"
)

// maxErrorBody bounds how much of an answer goes into an error.
const maxErrorBody = 1024

// webhookMessage is the JSON body of an incoming webhook request:
// Alertmanager's, with slack-go's attachment.
type webhookMessage struct {
	Channel     string                `json:"channel,omitempty"`
	Username    string                `json:"username,omitempty"`
	IconEmoji   string                `json:"icon_emoji,omitempty"`
	IconURL     string                `json:"icon_url,omitempty"`
	LinkNames   bool                  `json:"link_names,omitempty"`
	Text        string                `json:"text,omitempty"`
	Attachments []slackapi.Attachment `json:"attachments"`
}

// postWebhook posts m to the incoming webhook.
func (n *Notifier) postWebhook(ctx context.Context, m *message) (bool, error) {
	u, err := readSecret(n.c.APIURL, n.c.APIURLFile, "api_url")
	if err != nil {
		return false, err
	}
	if n.c.APIURLFile != "" {
		if err := notify.CheckURL(u); err != nil {
			return false, fmt.Errorf("api_url_file: %w", err)
		}
	}
	fail := func(retry bool, err error) (bool, error) {
		return retry, notify.RedactURL(fmt.Errorf("channel %q: %w", m.channel, err), u)
	}

	body, err := json.Marshal(m.payload())
	if err != nil {
		return fail(false, fmt.Errorf("encode slack message: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return fail(false, errors.New("invalid api_url"))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", n.userAgent)

	resp, err := n.client.Do(req)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			ue.URL = notify.RedactedURL(u)
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("%w: %w", err, context.Cause(ctx))
		}
		return fail(true, err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
	}()
	if retry, err := notify.CheckResponse(resp); err != nil {
		return fail(retry, err)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fail(true, fmt.Errorf("read the answer: %w", err))
	}
	if retry, err := checkWebhookAnswer(resp.Header.Get("Content-Type"), b); err != nil {
		return fail(retry, err)
	}
	return false, nil
}

// checkWebhookAnswer classifies the body of a 2xx answer to an incoming
// webhook request as Alertmanager does: a JSON body must say "ok": true
// (else the error is permanent), any other body must be "ok".
func checkWebhookAnswer(contentType string, body []byte) (bool, error) {
	if mt, _, _ := mime.ParseMediaType(contentType); mt == "application/json" {
		var r struct {
			OK    bool   `json:"ok"`
			Error string `json:"error"`
		}
		if err := json.Unmarshal(body, &r); err != nil {
			return true, fmt.Errorf("could not unmarshal JSON response %q: %w", clip(body), err)
		}
		if !r.OK {
			return false, &notify.Error{Reason: apiErrorReason(r.Error), Err: fmt.Errorf("error response from Slack: %s", r.Error)}
		}
		return false, nil
	}
	if !bytes.Equal(body, []byte("ok")) {
		return false, &notify.Error{Reason: notify.ReasonClientError, Err: fmt.Errorf("received an error response from Slack: %s", clip(body))}
	}
	return false, nil
}

// sendBot sends m with the bot token: it edits the message st describes
// if there is one and Slack still has it, else posts a new message. It
// returns the state of the message sent.
func (n *Notifier) sendBot(ctx context.Context, m *message, st *state) (*state, bool, error) {
	token, err := readSecret(n.c.AppToken, n.c.AppTokenFile, "app_token")
	if err != nil {
		return nil, false, err
	}
	fail := func(channel string, err error, rec *recorder) (*state, bool, error) {
		retry, err := classify(ctx, err, rec)
		return nil, retry, notify.Redact(fmt.Errorf("channel %q: %w", channel, err), token)
	}
	if st != nil {
		api, rec := n.api(token)
		opts := []slackapi.MsgOption{slackapi.MsgOptionText(m.text, false), slackapi.MsgOptionAttachments(m.att)}
		if m.linkNames {
			opts = append(opts, slackapi.MsgOptionLinkNames(true))
		}
		ch, ts, _, err := api.UpdateMessageContext(ctx, st.Channel, st.TS, opts...)
		if err == nil {
			return &state{
				Channel: cmp.Or(ch, st.Channel),
				TS:      cmp.Or(ts, st.TS),
				Closed:  m.resolved,
				Newest:  later(st.Newest, m.newest),
			}, false, nil
		}
		if !gone(err) {
			return fail(st.Channel, err, rec)
		}
		// The message cannot be edited any more: post a new one.
	}

	api, rec := n.api(token)
	opts := []slackapi.MsgOption{slackapi.MsgOptionText(m.text, false), slackapi.MsgOptionAttachments(m.att)}
	if m.username != "" {
		opts = append(opts, slackapi.MsgOptionUsername(m.username))
	}
	if m.iconEmoji != "" {
		opts = append(opts, slackapi.MsgOptionIconEmoji(m.iconEmoji))
	}
	if m.iconURL != "" {
		opts = append(opts, slackapi.MsgOptionIconURL(m.iconURL))
	}
	if m.linkNames {
		opts = append(opts, slackapi.MsgOptionLinkNames(true))
	}
	ch, ts, err := api.PostMessageContext(ctx, m.channel, opts...)
	if err != nil {
		return fail(m.channel, err, rec)
	}
	if ch == "" || ts == "" {
		return nil, false, nil // nothing to edit later
	}
	return &state{Channel: ch, TS: ts, Closed: m.resolved, Newest: m.newest}, false, nil
}

// api returns a slack-go client for one Web API call, and the recorder of
// its answer.
func (n *Notifier) api(token string) (*slackapi.Client, *recorder) {
	rec := &recorder{client: n.client, token: token, userAgent: n.userAgent}
	return slackapi.New(token, slackapi.OptionAPIURL(n.apiBase), slackapi.OptionHTTPClient(rec)), rec
}

// recorder is the HTTP client slack-go makes one call through: it adds
// the token as Alertmanager sends it (Authorization: Bearer) and the
// User-Agent, and classifies an answer other than 200 with its body, which
// slack-go discards.
type recorder struct {
	client           *http.Client
	token, userAgent string

	retry bool
	err   error // the classification of an answer other than 200
}

// Do sends req.
func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	req.Header.Set("Authorization", "Bearer "+r.token)
	req.Header.Set("User-Agent", r.userAgent)
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		r.retry, r.err = notify.CheckResponse(resp)
		if r.err == nil {
			// Another 2xx, which slack-go refuses.
			r.err = &notify.Error{Reason: notify.ReasonOther, Err: fmt.Errorf("unexpected status code %d", resp.StatusCode)}
		}
	}
	return resp, nil
}

// classify returns whether the error of a Web API call is retryable, and
// the error to report.
func classify(ctx context.Context, err error, rec *recorder) (bool, error) {
	rl, limited := errors.AsType[*slackapi.RateLimitedError](err)
	if rec.err != nil {
		// The answer was not a 200: its status decides, and its
		// Retry-After as slack-go read it.
		if e, ok := errors.AsType[*notify.Error](rec.err); ok && limited {
			e.RetryAfter = rl.RetryAfter
		}
		return rec.retry, rec.err
	}
	if limited {
		return true, &notify.Error{Reason: notify.ReasonRateLimited, RetryAfter: rl.RetryAfter, Err: err}
	}
	if sc, ok := errors.AsType[slackapi.StatusCodeError](err); ok {
		reason := notify.ReasonClientError
		if sc.Code/100 == 5 {
			reason = notify.ReasonServerError
		}
		return sc.Retryable(), &notify.Error{Reason: reason, Err: err}
	}
	if se, ok := errors.AsType[slackapi.SlackErrorResponse](err); ok {
		return false, &notify.Error{Reason: apiErrorReason(se.Err), Err: fmt.Errorf("error response from Slack: %s", se.Err)}
	}
	// A network error, or an answer that is not the Web API's JSON.
	if ctx.Err() != nil {
		err = fmt.Errorf("%w: %w", err, context.Cause(ctx))
	}
	return true, err
}

// apiErrorReason is the failure reason of a Web API error code.
func apiErrorReason(code string) notify.Reason {
	switch code {
	case "not_authed", "invalid_auth", "account_inactive", "token_revoked", "token_expired",
		"no_permission", "missing_scope", "not_allowed_token_type":
		return notify.ReasonAuthError
	case "ratelimited":
		return notify.ReasonRateLimited
	}
	return notify.ReasonClientError
}

// gone reports whether chat.update failed because the message can no
// longer be edited, so that a new one must be posted.
func gone(err error) bool {
	se, ok := errors.AsType[slackapi.SlackErrorResponse](err)
	if !ok {
		return false
	}
	switch se.Err {
	case "message_not_found", "cant_update_message", "channel_not_found", "edit_window_closed":
		return true
	}
	return false
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// clip returns the start of an answer's body, for an error.
func clip(b []byte) string {
	if len(b) > maxErrorBody {
		b = b[:maxErrorBody]
	}
	return strings.TrimSpace(strings.ToValidUTF8(string(b), string(utf8.RuneError)))
}
