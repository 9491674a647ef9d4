package notify_test

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

func TestMatrix_PutsRoomMessageWithEventHashAsTransaction(t *testing.T) {
	ep := newEndpoint(t, nil)
	n := mustNew(t, notify.Options{Type: "matrix", Address: ep.URL, Channel: "!room:example.org", Token: "syt_token"})
	e := testEvent(notify.SeverityInfo)
	post(t, n, e)

	raw, _ := json.Marshal(e)
	sum := sha1.Sum(raw)
	r := ep.only(t)
	wantRequest(t, r, http.MethodPut, "/_matrix/client/r0/rooms/%21room:example.org/send/m.room.message/"+hex.EncodeToString(sum[:]))
	wantHeader(t, r.Header, map[string]string{"Authorization": "Bearer syt_token"})
	wantJSON(t, r.Body, `{"msgtype": "m.text", "body":
		"💫 kustomization/webapp.apps\nApplied revision: main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1\n- revision: main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1\n- summary: cluster eu-1\n"}`)
}
