package notify

import (
	"context"
	"net/http"
)

// opsgenieDefaultAddress is Opsgenie's create-alert endpoint.
const opsgenieDefaultAddress = "https://api.opsgenie.com/v2/alerts"

// opsgenie creates an Opsgenie alert with an API key ("GenieKey" auth):
// message "<Kind>/<name>", the event message as description, and the
// metadata plus the severity as details.
type opsgenie struct {
	s     *sender
	url   string
	token string
}

func newOpsgenie(o *Options) (Notifier, error) {
	address := o.Address
	if address == "" {
		address = opsgenieDefaultAddress
	}
	u, err := parseHTTPAddress(o, address)
	if err != nil {
		return nil, err
	}
	if o.Token == "" {
		return nil, missing(o, `token (an API key, Secret key "token")`)
	}
	return &opsgenie{s: newSender(o), url: u.String(), token: o.Token}, nil
}

type opsgenieAlert struct {
	Message     string            `json:"message"`
	Description string            `json:"description"`
	Details     map[string]string `json:"details"`
}

func (n *opsgenie) Post(ctx context.Context, e Event) error {
	details := make(map[string]string, len(e.Metadata)+1)
	for k, v := range e.Metadata {
		details[k] = v
	}
	details["severity"] = e.Severity
	payload := opsgenieAlert{
		Message:     e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name,
		Description: e.Message,
		Details:     details,
	}
	h := http.Header{}
	h.Set("Authorization", "GenieKey "+n.token)
	_, err := n.s.postJSON(ctx, "create alert", n.url, payload, h)
	return err
}
