package decrypt_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/kustomize/decrypt"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/kustomize/decrypt/decrypttest"
)

const secretManifest = `apiVersion: v1
kind: Secret
metadata:
  name: creds
stringData:
  token: s3cr3t-token-value
  password: hunter2-but-longer
`

// decryptorFor returns a Decryptor holding the keys of a Secret with data.
func decryptorFor(t *testing.T, data map[string]string) *decrypt.Decryptor {
	t.Helper()
	raw := map[string][]byte{}
	for k, v := range data {
		raw[k] = []byte(v)
	}
	keys, err := decrypt.ParseKeys(raw)
	if err != nil {
		t.Fatalf("ParseKeys: %v", err)
	}
	return decrypt.New(keys, decrypt.Options{})
}

func sameYAML(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w interface{}
	if err := yaml.Unmarshal(got, &g); err != nil {
		t.Fatalf("decrypted file is not YAML: %v\n%s", err, got)
	}
	if err := yaml.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	gj, _ := yaml.Marshal(g)
	wj, _ := yaml.Marshal(w)
	if string(gj) != string(wj) {
		t.Errorf("decrypted:\n%s\nwant:\n%s", gj, wj)
	}
}

func TestDecryptManifest_AgeAndOpenPGP(t *testing.T) {
	ageKey, pq := decrypttest.NewAgeKey(t), decrypttest.NewHybridAgeKey(t)
	eddsa := decrypttest.NewPGPKey(t, 0)
	rsa := decrypttest.NewPGPKey(t, 2048)
	tests := []struct {
		name    string
		secret  map[string]string
		opts    decrypttest.Options
		regex   string
		jsonDoc bool
	}{
		{name: "age, values only", secret: map[string]string{"age.agekey": ageKey.Identity},
			opts: decrypttest.Options{Age: []decrypttest.AgeKey{ageKey}, EncryptedRegex: "^(data|stringData)$"}},
		{name: "age, every value", secret: map[string]string{"keys.agekey": "# created by age-keygen\n" + ageKey.Identity + "\n"},
			opts: decrypttest.Options{Age: []decrypttest.AgeKey{ageKey}}},
		{name: "age, post-quantum key", secret: map[string]string{"pq.agekey": pq.Identity},
			opts: decrypttest.Options{Age: []decrypttest.AgeKey{pq}}},
		{name: "OpenPGP EdDSA", secret: map[string]string{"sops.asc": eddsa.ArmoredPrivate(t)},
			opts: decrypttest.Options{PGP: []decrypttest.PGPKey{eddsa}, EncryptedRegex: "^(data|stringData)$"}},
		{name: "OpenPGP RSA", secret: map[string]string{"identity.asc": rsa.ArmoredPrivate(t)},
			opts: decrypttest.Options{PGP: []decrypttest.PGPKey{rsa}}},
		{name: "JSON manifest", secret: map[string]string{"age.agekey": ageKey.Identity},
			opts: decrypttest.Options{Age: []decrypttest.AgeKey{ageKey}}, jsonDoc: true},
		{name: "one of several recipients", secret: map[string]string{"sops.asc": eddsa.ArmoredPrivate(t)},
			opts: decrypttest.Options{Age: []decrypttest.AgeKey{decrypttest.NewAgeKey(t)}, PGP: []decrypttest.PGPKey{eddsa}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plain, format, name := []byte(secretManifest), "yaml", "app/secret.enc.yaml"
			if tt.jsonDoc {
				var err error
				if plain, err = yaml.YAMLToJSON(plain); err != nil {
					t.Fatal(err)
				}
				format, name = "json", "app/secret.json"
			}
			encrypted := decrypttest.Encrypt(t, plain, format, tt.opts)
			if strings.Contains(string(encrypted), "s3cr3t-token-value") {
				t.Fatalf("the encrypted file holds the plaintext:\n%s", encrypted)
			}
			d := decryptorFor(t, tt.secret)
			out, ok, err := d.DecryptManifest(name, encrypted)
			if err != nil || !ok {
				t.Fatalf("DecryptManifest = %v, %v", ok, err)
			}
			sameYAML(t, out, secretManifest)
			if strings.Contains(string(out), "sops") {
				t.Errorf("the sops metadata is left in:\n%s", out)
			}
		})
	}
}

// TestDecryptFile_Formats: secretGenerator sources are decrypted in the
// format their name implies, as sops picks it.
func TestDecryptFile_Formats(t *testing.T) {
	ageKey := decrypttest.NewAgeKey(t)
	pgpKey := decrypttest.NewPGPKey(t, 0)
	keys := map[string]string{"age.agekey": ageKey.Identity, "pgp.asc": pgpKey.ArmoredPrivate(t)}
	tests := []struct {
		name, format, plain string
		want                []string
	}{
		{name: "app/db.env", format: "dotenv", plain: "DB_USER=admin\nDB_PASSWORD=env-s3cr3t-value\n",
			want: []string{"DB_USER=admin", "DB_PASSWORD=env-s3cr3t-value"}},
		{name: "app/app.ini", format: "ini", plain: "[database]\npassword = ini-s3cr3t-value\n",
			want: []string{"[database]", "ini-s3cr3t-value"}},
		{name: "app/config.json", format: "json", plain: `{"apiKey": "json-s3cr3t-value", "retries": 3}`,
			want: []string{`"apiKey": "json-s3cr3t-value"`, `"retries": 3`}},
		{name: "app/config.yaml", format: "yaml", plain: "apiKey: yaml-s3cr3t-value\nnested:\n  list: [a, b]\n",
			want: []string{"apiKey: yaml-s3cr3t-value", "- a"}},
		{name: "app/tls.key", format: "binary", plain: "-----BEGIN PRIVATE KEY-----\nbinary-s3cr3t-value\n-----END PRIVATE KEY-----\n",
			want: []string{"-----BEGIN PRIVATE KEY-----\nbinary-s3cr3t-value\n-----END PRIVATE KEY-----\n"}},
	}
	for _, tt := range tests {
		for _, key := range []string{"age", "pgp"} {
			t.Run(tt.format+"/"+key, func(t *testing.T) {
				opts := decrypttest.Options{Age: []decrypttest.AgeKey{ageKey}}
				if key == "pgp" {
					opts = decrypttest.Options{PGP: []decrypttest.PGPKey{pgpKey}}
				}
				encrypted := decrypttest.Encrypt(t, []byte(tt.plain), tt.format, opts)
				out, ok, err := decryptorFor(t, keys).DecryptFile(tt.name, encrypted)
				if err != nil || !ok {
					t.Fatalf("DecryptFile = %v, %v", ok, err)
				}
				for _, w := range tt.want {
					if !strings.Contains(string(out), w) {
						t.Errorf("decrypted %s lacks %q:\n%s", tt.name, w, out)
					}
				}
				if tt.format == "binary" && string(out) != tt.plain {
					t.Errorf("binary file = %q, want it byte for byte %q", out, tt.plain)
				}
				if strings.Contains(string(out), "sops") {
					t.Errorf("the sops metadata is left in:\n%s", out)
				}
			})
		}
	}
}

// TestDecrypt_PlainFilesPassThrough: files without sops metadata are
// returned as they are, whatever they look like.
func TestDecrypt_PlainFilesPassThrough(t *testing.T) {
	d := decryptorFor(t, map[string]string{"age.agekey": decrypttest.NewAgeKey(t).Identity})
	for name, content := range map[string]string{
		"app/deploy.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  tool: sops\n",
		"app/doc.yaml":     "# encrypted with sops elsewhere\nsopsVersion: 3\n---\nkind: ConfigMap\n",
		"app/broken.yaml":  "sops: [unclosed\n",
		"app/plain.env":    "SOPS_AGE_RECIPIENTS=age1xyz\n",
		"app/cert.pem":     "-----BEGIN CERTIFICATE-----\nsops\n-----END CERTIFICATE-----\n",
		"app/config.json":  `{"sops": "is a tool"}`,
		"app/settings.ini": "[sops]\nnote = not metadata\n",
	} {
		for _, f := range []func(string, []byte) ([]byte, bool, error){d.DecryptManifest, d.DecryptFile} {
			out, ok, err := f(name, []byte(content))
			if err != nil || ok || string(out) != content {
				t.Errorf("%s: got %q, %v, %v; want it unchanged", name, out, ok, err)
			}
		}
	}
	if d.Decrypted() {
		t.Error("Decrypted() after plain files only")
	}
}

func TestDecrypt_FailuresNameTheFile(t *testing.T) {
	ours, theirs := decrypttest.NewAgeKey(t), decrypttest.NewAgeKey(t)
	pgpKey := decrypttest.NewPGPKey(t, 0)
	forTheirs := decrypttest.Encrypt(t, []byte(secretManifest), "yaml",
		decrypttest.Options{Age: []decrypttest.AgeKey{theirs}, EncryptedRegex: "^(data|stringData)$"})
	forOurs := decrypttest.Encrypt(t, []byte(secretManifest), "yaml",
		decrypttest.Options{Age: []decrypttest.AgeKey{ours}, EncryptedRegex: "^(data|stringData)$"})
	tests := []struct {
		name        string
		keys        map[string]string
		data        []byte
		want        []string
		unsupported bool
	}{
		{name: "wrong age key", keys: map[string]string{"age.agekey": ours.Identity}, data: forTheirs,
			want: []string{"no key of the decryption Secret can decrypt it", "age " + theirs.Recipient}},
		{name: "OpenPGP key for an age file", keys: map[string]string{"sops.asc": pgpKey.ArmoredPrivate(t)}, data: forTheirs,
			want: []string{"no key of the decryption Secret can decrypt it"}},
		{name: "no keys at all", keys: nil, data: forOurs,
			want: []string{"no key of the decryption Secret can decrypt it", "age " + ours.Recipient}},
		{name: "damaged value", keys: map[string]string{"age.agekey": ours.Identity}, data: decrypttest.Tamper(t, forOurs),
			want: []string{"the file is corrupted"}},
		{name: "edited plain value breaks the MAC", keys: map[string]string{"age.agekey": ours.Identity},
			data: []byte(strings.Replace(string(forOurs), "name: creds", "name: other", 1)),
			want: []string{"its MAC does not match its content"}},
		{name: "KMS only", keys: map[string]string{"age.agekey": ours.Identity},
			data: decrypttest.Encrypt(t, []byte(secretManifest), "yaml",
				decrypttest.Options{AWSKMS: []string{"arn:aws:kms:eu-west-1:111122223333:key/test"}}),
			want: []string{"encrypted only for AWS KMS", "not supported by this server"}, unsupported: true},
		{name: "KMS and a foreign age key", keys: map[string]string{"age.agekey": ours.Identity},
			data: decrypttest.Encrypt(t, []byte(secretManifest), "yaml", decrypttest.Options{
				Age: []decrypttest.AgeKey{theirs}, AWSKMS: []string{"arn:aws:kms:eu-west-1:111122223333:key/test"}}),
			want: []string{"no key of the decryption Secret", "AWS KMS, which this server cannot use"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decryptorFor(t, tt.keys)
			_, ok, err := d.DecryptManifest("apps/prod/secret.yaml", tt.data)
			var fe *decrypt.FileError
			if ok || !errors.As(err, &fe) || fe.Path != "apps/prod/secret.yaml" {
				t.Fatalf("DecryptManifest = %v, %v; want a FileError for apps/prod/secret.yaml", ok, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "decrypting 'apps/prod/secret.yaml': ") {
				t.Errorf("message %q does not start with the file", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
			if errors.Is(err, decrypt.ErrUnsupported) != tt.unsupported {
				t.Errorf("errors.Is(ErrUnsupported) = %v, want %v", !tt.unsupported, tt.unsupported)
			}
			for _, secret := range []string{"s3cr3t-token-value", ours.Identity, theirs.Identity, "PRIVATE KEY"} {
				if strings.Contains(msg, secret) {
					t.Errorf("message %q holds secret material", msg)
				}
			}
		})
	}
}

// TestDecrypt_UsesOnlyItsOwnKeys: keys in the process's environment (as
// sops would read them) never decrypt a tenant's file.
func TestDecrypt_UsesOnlyItsOwnKeys(t *testing.T) {
	envKey := decrypttest.NewAgeKey(t)
	t.Setenv("SOPS_AGE_KEY", envKey.Identity)
	t.Setenv("SOPS_AGE_KEY_FILE", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	data := decrypttest.Encrypt(t, []byte(secretManifest), "yaml", decrypttest.Options{Age: []decrypttest.AgeKey{envKey}})

	for name, keys := range map[string]map[string]string{
		"no keys":          nil,
		"another tenant's": {"age.agekey": decrypttest.NewAgeKey(t).Identity},
	} {
		if _, _, err := decryptorFor(t, keys).DecryptManifest("secret.yaml", data); err == nil {
			t.Errorf("%s: a key from the environment decrypted the file", name)
		}
	}
}

func TestDecrypt_MaxSize(t *testing.T) {
	key := decrypttest.NewAgeKey(t)
	keys, err := decrypt.ParseKeys(map[string][]byte{"a.agekey": []byte(key.Identity)})
	if err != nil {
		t.Fatal(err)
	}
	data := decrypttest.Encrypt(t, []byte(strings.Repeat("x", 600)), "binary", decrypttest.Options{Age: []decrypttest.AgeKey{key}})
	d := decrypt.New(keys, decrypt.Options{MaxSize: 1000})
	if _, _, err := d.DecryptFile("one.bin", data); err != nil {
		t.Fatalf("first file: %v", err)
	}
	if _, _, err := d.DecryptFile("two.bin", data); !errors.Is(err, decrypt.ErrTooLarge) {
		t.Errorf("second file: %v, want ErrTooLarge", err)
	}
}

func TestRedact_RemovesDecryptedValues(t *testing.T) {
	key := decrypttest.NewAgeKey(t)
	d := decryptorFor(t, map[string]string{"age.agekey": key.Identity})
	if got := d.Redact("nothing decrypted yet: s3cr3t-token-value"); got != "nothing decrypted yet: s3cr3t-token-value" {
		t.Errorf("Redact before decrypting = %q", got)
	}
	manifest := decrypttest.Encrypt(t, []byte(secretManifest), "yaml", decrypttest.Options{Age: []decrypttest.AgeKey{key}})
	if _, _, err := d.DecryptManifest("secret.yaml", manifest); err != nil {
		t.Fatal(err)
	}
	env := decrypttest.Encrypt(t, []byte("API_KEY=env-value-1234\n"), "dotenv", decrypttest.Options{Age: []decrypttest.AgeKey{key}})
	if _, _, err := d.DecryptFile("app.env", env); err != nil {
		t.Fatal(err)
	}
	msg := "Secret/apps/creds invalid: token s3cr3t-token-value, b64 " + base64.StdEncoding.EncodeToString([]byte("hunter2-but-longer")) +
		", env env-value-1234, file " + base64.StdEncoding.EncodeToString([]byte("API_KEY=env-value-1234\n"))
	got := d.Redact(msg)
	want := "Secret/apps/creds invalid: token ***, b64 ***, env ***, file ***"
	if got != want {
		t.Errorf("Redact = %q, want %q", got, want)
	}
	var nilDecryptor *decrypt.Decryptor
	if nilDecryptor.Redact("x") != "x" || nilDecryptor.Decrypted() {
		t.Error("a nil Decryptor changes messages")
	}
}
