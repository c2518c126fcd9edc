package slack

import (
	"fmt"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/alertd/alertd/notify"
)

// maxTitleRunes bounds the attachment's title, as Alertmanager does
// (Slack's documented limit, in characters).
const maxTitleRunes = 1024

// message is one rendered notification.
type message struct {
	channel, username, iconEmoji, iconURL string
	linkNames                             bool
	text                                  string // the top-level text
	att                                   slackapi.Attachment

	// resolved says that every alert of the notification has resolved.
	resolved bool
	// oldest and newest are the earliest and latest starts of its alerts.
	oldest, newest time.Time
}

// render renders the templated fields of the configuration for d, as
// Alertmanager's Slack notifier does. A template error, which names the
// field, is permanent.
func (n *Notifier) render(d *notify.Data) (*message, error) {
	c := &n.c
	e := n.tmpl.Expander(d)
	title, _ := notify.TruncateRunes(e.Text("title", c.Title), maxTitleRunes)
	m := &message{
		channel:   e.Text("channel", c.Channel),
		username:  e.Text("username", c.Username),
		iconEmoji: e.Text("icon_emoji", c.IconEmoji),
		iconURL:   e.Text("icon_url", c.IconURL),
		linkNames: c.LinkNames,
		text:      e.Text("message_text", c.MessageText),
		att: slackapi.Attachment{
			Title:      title,
			TitleLink:  e.Text("title_link", c.TitleLink),
			Pretext:    e.Text("pretext", c.Pretext),
			Text:       e.Text("text", c.Text),
			Fallback:   e.Text("fallback", c.Fallback),
			CallbackID: e.Text("callback_id", c.CallbackID),
			ImageURL:   e.Text("image_url", c.ImageURL),
			ThumbURL:   e.Text("thumb_url", c.ThumbURL),
			Footer:     e.Text("footer", c.Footer),
			Color:      e.Text("color", c.Color),
			MarkdownIn: c.MrkdwnIn,
		},
		resolved: d.Status == notify.StatusResolved,
	}
	for i, f := range c.Fields {
		short := c.ShortFields
		if f.Short != nil {
			short = *f.Short
		}
		m.att.Fields = append(m.att.Fields, slackapi.AttachmentField{
			Title: e.Text(fmt.Sprintf("fields[%d].title", i), f.Title),
			Value: e.Text(fmt.Sprintf("fields[%d].value", i), f.Value),
			Short: short,
		})
	}
	for i, a := range c.Actions {
		field := func(name string) string { return fmt.Sprintf("actions[%d].%s", i, name) }
		act := slackapi.AttachmentAction{
			Type:  slackapi.ActionType(e.Text(field("type"), a.Type)),
			Text:  e.Text(field("text"), a.Text),
			URL:   e.Text(field("url"), a.URL),
			Style: e.Text(field("style"), a.Style),
			Name:  e.Text(field("name"), a.Name),
			Value: e.Text(field("value"), a.Value),
		}
		if cf := a.Confirm; cf != nil {
			act.Confirm = &slackapi.ConfirmationField{
				Title:       e.Text(field("confirm.title"), cf.Title),
				Text:        e.Text(field("confirm.text"), cf.Text),
				OkText:      e.Text(field("confirm.ok_text"), cf.OkText),
				DismissText: e.Text(field("confirm.dismiss_text"), cf.DismissText),
			}
		}
		m.att.Actions = append(m.att.Actions, act)
	}
	if err := e.Err(); err != nil {
		return nil, err
	}
	for i, a := range d.Alerts {
		if i == 0 || a.StartsAt.Before(m.oldest) {
			m.oldest = a.StartsAt
		}
		if a.StartsAt.After(m.newest) {
			m.newest = a.StartsAt
		}
	}
	return m, nil
}
