package server

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/zapr"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	logsapi "k8s.io/component-base/logs/api/v1"
)

// Log lines in the JSON format are Flux's (its controllers log through zap
// with this layout): `flux logs` parses each line into ts, level, msg,
// error, logger, controllerKind, name and namespace, all strings, and stops
// reading a pod's log at the first line that does not parse. Kubernetes'
// own JSON format (k8s.io/component-base/logs/json) writes ts as a number
// and errors under "err", so we register this one under its name instead.

// fluxJSONKeys are the keys `flux logs` decodes as strings; a value of
// another type under one of them would stop it reading the log.
var fluxJSONKeys = map[string]bool{
	"ts": true, "level": true, "msg": true, "error": true, "logger": true,
	"reconciler kind": true, "controllerKind": true, "name": true, "namespace": true,
}

var registerLogFormatOnce sync.Once

// registerLogFormats registers the JSON format once per process: the
// registry is component-base's and refuses a second registration.
func registerLogFormats() {
	registerLogFormatOnce.Do(func() {
		// Only fails for a duplicate name, which the Once rules out.
		_ = logsapi.RegisterLogFormat(logsapi.JSONLogFormat, fluxJSONFactory{}, logsapi.LoggingBetaOptions)
	})
}

// fluxJSONFactory makes the JSON logger.
type fluxJSONFactory struct{}

var _ logsapi.LogFormatFactory = fluxJSONFactory{}

// Create implements logsapi.LogFormatFactory. Everything goes to stderr
// unless --log-json-split-stream sends info lines to stdout.
func (fluxJSONFactory) Create(c logsapi.LoggingConfiguration, o logsapi.LoggingOptions) (logr.Logger, logsapi.RuntimeControl) {
	if c.Options.JSON.SplitStream {
		return newFluxJSONLogger(uint32(c.Verbosity), o.InfoStream, o.ErrorStream)
	}
	return newFluxJSONLogger(uint32(c.Verbosity), o.ErrorStream, nil)
}

// newFluxJSONLogger writes info lines to info and errors to errs, or
// everything to info when errs is nil.
func newFluxJSONLogger(v uint32, info, errs io.Writer) (logr.Logger, logsapi.RuntimeControl) {
	lvl := &verbosity{}
	lvl.v.Store(v)
	enc := zapcore.NewJSONEncoder(zapcore.EncoderConfig{
		TimeKey:        "ts",
		LevelKey:       "level",
		NameKey:        "logger",
		MessageKey:     "msg",
		StacktraceKey:  "stacktrace",
		LineEnding:     zapcore.DefaultLineEnding,
		EncodeTime:     encodeTime,
		EncodeLevel:    encodeLevel,
		EncodeDuration: zapcore.StringDurationEncoder,
	})
	newCore := func(w io.Writer, enabled zapcore.LevelEnabler) zapcore.Core {
		return stringKeysCore{zapcore.NewCore(enc, zapcore.Lock(nopSync{w}), enabled)}
	}
	core := newCore(info, lvl)
	if errs != nil {
		core = zapcore.NewTee(
			newCore(errs, zap.LevelEnablerFunc(func(l zapcore.Level) bool { return l >= zapcore.ErrorLevel && lvl.Enabled(l) })),
			newCore(info, zap.LevelEnablerFunc(func(l zapcore.Level) bool { return l < zapcore.ErrorLevel && lvl.Enabled(l) })),
		)
	}
	l := zap.New(core)
	return zapr.NewLoggerWithOptions(l, zapr.ErrorKey("error")), logsapi.RuntimeControl{
		SetVerbosityLevel: func(v uint32) error { lvl.v.Store(v); return nil },
		Flush:             func() { _ = l.Sync() },
	}
}

// verbosity enables V(n) lines for n <= v (zapr logs V(n) at zap level -n).
type verbosity struct{ v atomic.Uint32 }

func (l *verbosity) Enabled(level zapcore.Level) bool {
	return level >= -zapcore.Level(l.v.Load())
}

// encodeTime writes ISO 8601 in UTC with milliseconds, as Flux does.
func encodeTime(t time.Time, enc zapcore.PrimitiveArrayEncoder) {
	enc.AppendString(t.UTC().Format("2006-01-02T15:04:05.000Z"))
}

// encodeLevel writes Flux's level names: error, info, debug (V(1)) and
// trace (V(2) and more).
func encodeLevel(l zapcore.Level, enc zapcore.PrimitiveArrayEncoder) {
	switch {
	case l >= zapcore.ErrorLevel:
		enc.AppendString("error")
	case l >= zapcore.InfoLevel:
		enc.AppendString("info")
	case l == zapcore.DebugLevel:
		enc.AppendString("debug")
	default:
		enc.AppendString("trace")
	}
}

// stringKeysCore writes values under fluxJSONKeys as strings, whatever a
// caller logged there (e.g. an object under "name").
type stringKeysCore struct{ zapcore.Core }

func (c stringKeysCore) With(fields []zapcore.Field) zapcore.Core {
	return stringKeysCore{c.Core.With(stringFields(fields))}
}

func (c stringKeysCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c stringKeysCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	return c.Core.Write(e, stringFields(fields))
}

func stringFields(fields []zapcore.Field) []zapcore.Field {
	var out []zapcore.Field
	for i, f := range fields {
		if !fluxJSONKeys[f.Key] || f.Type == zapcore.StringType || f.Type == zapcore.ErrorType || f.Type == zapcore.StringerType {
			if out != nil {
				out = append(out, f)
			}
			continue
		}
		if out == nil {
			out = append(make([]zapcore.Field, 0, len(fields)), fields[:i]...)
		}
		out = append(out, zap.String(f.Key, fieldString(f)))
	}
	if out == nil {
		return fields
	}
	return out
}

// fieldString renders a field's value as text.
func fieldString(f zapcore.Field) string {
	enc := zapcore.NewMapObjectEncoder()
	f.AddTo(enc)
	return fmt.Sprint(enc.Fields[f.Key])
}

// nopSync is a WriteSyncer whose Sync does nothing: output is unbuffered,
// and fsync on every flush would only slow logging down.
type nopSync struct{ io.Writer }

func (nopSync) Sync() error { return nil }

// logEncoding is --log-encoding, Flux's flag for the log format: json is
// our JSON format, console klog's text.
type logEncoding struct{ format *string }

func (e logEncoding) String() string {
	if e.format == nil {
		return ""
	}
	switch *e.format {
	case logsapi.JSONLogFormat:
		return "json"
	case logsapi.DefaultLogFormat:
		return "console"
	}
	return *e.format
}

func (e logEncoding) Set(v string) error {
	switch v {
	case "json":
		*e.format = logsapi.JSONLogFormat
	case "console":
		*e.format = logsapi.DefaultLogFormat
	default:
		return fmt.Errorf("%q is not a log encoding: use json or console", v)
	}
	return nil
}

func (logEncoding) Type() string { return "string" }
