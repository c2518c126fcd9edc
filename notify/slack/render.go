package slack

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/alertd/alertd/notify"
)

var _ notify.Renderer = (*Notifier)(nil)

// payload is the JSON body of an incoming webhook request for m.
func (m *message) payload() webhookMessage {
	return webhookMessage{
		Channel:     m.channel,
		Username:    m.username,
		IconEmoji:   m.iconEmoji,
		IconURL:     m.iconURL,
		LinkNames:   m.linkNames,
		Text:        m.text,
		Attachments: []slackapi.Attachment{m.att},
	}
}

// Render returns the message Notify would send for d: the JSON body an
// incoming webhook is posted. With a bot token the same message goes to
// chat.postMessage (or chat.update, for a group whose message is open),
// which slack-go sends form-encoded, the attachments as JSON in one field.
//
// Its fields are the rendered settings by their configuration names:
// "channel", "username", "icon_emoji", "icon_url", "message_text" (the
// top-level text), the attachment's "title", "title_link", "pretext",
// "text", "fallback", "callback_id", "color", "image_url", "thumb_url",
// "footer", "fields[i].title", "fields[i].value", "actions[i].text" and
// "actions[i].url"; and "mode": "webhook" or "bot".
func (n *Notifier) Render(d *notify.Data, _ time.Time) (*notify.Rendered, error) {
	m, err := n.render(d)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(m.payload())
	if err != nil {
		return nil, fmt.Errorf("encode slack message: %w", err)
	}
	mode := "webhook"
	if n.bot {
		mode = "bot"
	}
	a := &m.att
	fields := map[string]string{
		"mode":         mode,
		"channel":      m.channel,
		"username":     m.username,
		"icon_emoji":   m.iconEmoji,
		"icon_url":     m.iconURL,
		"link_names":   strconv.FormatBool(m.linkNames),
		"message_text": m.text,
		"title":        a.Title,
		"title_link":   a.TitleLink,
		"pretext":      a.Pretext,
		"text":         a.Text,
		"fallback":     a.Fallback,
		"callback_id":  a.CallbackID,
		"color":        a.Color,
		"image_url":    a.ImageURL,
		"thumb_url":    a.ThumbURL,
		"footer":       a.Footer,
	}
	for i, f := range a.Fields {
		fields[fmt.Sprintf("fields[%d].title", i)] = f.Title
		fields[fmt.Sprintf("fields[%d].value", i)] = f.Value
	}
	for i, act := range a.Actions {
		fields[fmt.Sprintf("actions[%d].text", i)] = act.Text
		fields[fmt.Sprintf("actions[%d].url", i)] = act.URL
	}
	return &notify.Rendered{ContentType: "application/json", Body: body, Fields: fields}, nil
}
