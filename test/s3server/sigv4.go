package s3server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// sigV4 accepts only requests signed with AWS Signature Version 4 in the
// Authorization header (what S3 clients send) by its one key pair, answering
// others the way S3 does: InvalidAccessKeyId, SignatureDoesNotMatch or
// AccessDenied. The payload hash is taken as declared; the clock is not
// checked.
type sigV4 struct {
	accessKey, secretKey string
	next                 http.Handler
}

const sigV4Algorithm = "AWS4-HMAC-SHA256"

func (s *sigV4) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, sigV4Algorithm+" ") {
		writeError(w, http.StatusForbidden, "AccessDenied", "Access Denied.")
		return
	}
	fields := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(auth, sigV4Algorithm+" "), ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok {
			fields[k] = v
		}
	}
	cred := strings.Split(fields["Credential"], "/")
	if len(cred) != 5 || fields["SignedHeaders"] == "" || fields["Signature"] == "" {
		writeError(w, http.StatusBadRequest, "AuthorizationHeaderMalformed", "The authorization header is malformed.")
		return
	}
	if cred[0] != s.accessKey {
		writeError(w, http.StatusForbidden, "InvalidAccessKeyId", "The Access Key Id you provided does not exist in our records.")
		return
	}
	date, region, service := cred[1], cred[2], cred[3]
	scope := strings.Join(cred[1:], "/")
	canonical := canonicalRequest(r, strings.Split(fields["SignedHeaders"], ";"), fields["SignedHeaders"])
	sum := sha256.Sum256([]byte(canonical))
	toSign := strings.Join([]string{sigV4Algorithm, r.Header.Get("X-Amz-Date"), scope, hex.EncodeToString(sum[:])}, "\n")

	key := hmacSHA256([]byte("AWS4"+s.secretKey), date)
	key = hmacSHA256(key, region)
	key = hmacSHA256(key, service)
	key = hmacSHA256(key, "aws4_request")
	want := hex.EncodeToString(hmacSHA256(key, toSign))
	if !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		writeError(w, http.StatusForbidden, "SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided. Check your key and signing method.")
		return
	}
	s.next.ServeHTTP(w, r)
}

func canonicalRequest(r *http.Request, signed []string, signedHeaders string) string {
	sort.Strings(signed)
	var headers strings.Builder
	for _, h := range signed {
		headers.WriteString(h)
		headers.WriteByte(':')
		switch h {
		case "host":
			headers.WriteString(r.Host)
		case "content-length":
			headers.WriteString(strconv.FormatInt(r.ContentLength, 10))
		default:
			vals := r.Header.Values(h)
			for i, v := range vals {
				if i > 0 {
					headers.WriteByte(',')
				}
				headers.WriteString(strings.Join(strings.Fields(v), " "))
			}
		}
		headers.WriteByte('\n')
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		payload = "UNSIGNED-PAYLOAD"
	}
	return strings.Join([]string{
		r.Method,
		s3utils.EncodePath(r.URL.Path),
		strings.ReplaceAll(r.URL.Query().Encode(), "+", "%20"),
		headers.String(),
		signedHeaders,
		payload,
	}, "\n")
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
