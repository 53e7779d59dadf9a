package openaitest

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// Usage is what Reply and Stream report as token usage.
var Usage = struct{ Prompt, Completion int }{Prompt: 42, Completion: 7}

// Reply answers a chat request with text.
func Reply(text string) Responder {
	return func(w http.ResponseWriter, r *http.Request, req Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"id": "chatcmpl-test", "object": "chat.completion", "created": 1, "model": model(req),
			"choices": []any{map[string]any{
				"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": text},
			}},
			"usage": map[string]any{"prompt_tokens": Usage.Prompt, "completion_tokens": Usage.Completion, "total_tokens": Usage.Prompt + Usage.Completion},
		})
	}
}

// ReplyFunc answers a chat request with what fn makes of it.
func ReplyFunc(fn func(req Request) string) Responder {
	return func(w http.ResponseWriter, r *http.Request, req Request) {
		Reply(fn(req))(w, r, req)
	}
}

// EchoData answers as a model that ignores its instructions: a line of
// prose (intro, when not empty), then the first data block of the last
// message copied whole, its <<<DATA ...>>> and <<<END ...>>> markers
// included.
func EchoData(intro string) Responder {
	return ReplyFunc(func(req Request) string {
		msgs := req.Messages()
		if len(msgs) == 0 {
			return intro
		}
		content := msgs[len(msgs)-1].Content
		start := strings.Index(content, "<<<DATA ")
		end := strings.Index(content, "<<<END ")
		if start < 0 || end < start {
			return intro
		}
		block := content[start:]
		if close := strings.Index(block[end-start:], ">>>"); close >= 0 {
			block = block[:end-start+close+3]
		}
		if intro == "" {
			return block
		}
		return intro + "\n" + block
	})
}

// Stream answers a chat request as a server-sent event stream of the
// chunks, a last chunk with the usage, then [DONE].
func Stream(chunks ...string) Responder { return StreamPaced(0, chunks...) }

// StreamPaced is Stream with the chunks gap apart, as a model writes them
// (it stops when the client goes away).
func StreamPaced(gap time.Duration, chunks ...string) Responder {
	return func(w http.ResponseWriter, r *http.Request, req Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i, c := range chunks {
			if i > 0 && gap > 0 {
				select {
				case <-time.After(gap):
				case <-r.Context().Done():
					return
				}
			}
			writeChunk(w, req, c, "")
		}
		writeChunk(w, req, "", "stop")
		writeEvent(w, map[string]any{"id": "chatcmpl-test", "object": "chat.completion.chunk", "model": model(req), "choices": []any{},
			"usage": map[string]any{"prompt_tokens": Usage.Prompt, "completion_tokens": Usage.Completion, "total_tokens": Usage.Prompt + Usage.Completion}})
		fmt.Fprint(w, "data: [DONE]\n\n")
	}
}

// Hang streams the chunks, then waits for the client to go away (or a
// minute) without finishing.
func Hang(chunks ...string) Responder {
	return func(w http.ResponseWriter, r *http.Request, req Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, c := range chunks {
			writeChunk(w, req, c, "")
		}
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	}
}

// Slow waits d (or until the client goes away), then answers with next.
func Slow(d time.Duration, next Responder) Responder {
	return func(w http.ResponseWriter, r *http.Request, req Request) {
		select {
		case <-time.After(d):
			next(w, r, req)
		case <-r.Context().Done():
		}
	}
}

// Fail answers with an OpenAI-style error; headers are name, value pairs
// ("Retry-After", "1").
func Fail(status int, message string, headers ...string) Responder {
	return func(w http.ResponseWriter, r *http.Request, req Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		writeJSON(w, status, map[string]any{"error": map[string]any{"message": message, "type": "test_error"}})
	}
}

// Malformed answers 200 with a body that is not JSON.
func Malformed() Responder {
	return func(w http.ResponseWriter, r *http.Request, req Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"choices": [{"message": {"content": nope}}]}`)
	}
}

// Embeddings answers an embeddings request with a deterministic vector of
// dims floats per input (not normalised, so clients must normalise), listed
// in reverse order to check that clients sort by index.
func Embeddings(dims int) Responder {
	return func(w http.ResponseWriter, r *http.Request, req Request) {
		inputs := inputsOf(req)
		data := make([]any, 0, len(inputs))
		for i := len(inputs) - 1; i >= 0; i-- {
			data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": Vector(inputs[i], dims)})
		}
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "model": model(req), "data": data,
			"usage": map[string]any{"prompt_tokens": len(inputs), "total_tokens": len(inputs)}})
	}
}

// Vector is the vector Embeddings returns for text.
func Vector(text string, dims int) []float64 {
	v := make([]float64, dims)
	for _, w := range strings.Fields(strings.ToLower(text)) {
		h := fnv.New32a()
		h.Write([]byte(w))
		v[int(h.Sum32())%dims] += 3
	}
	for i := range v {
		v[i] += 0.01 * float64(i%3)
	}
	return v
}

// ArbitraryEmbeddings answers an embeddings request with a vector of dims
// positive floats per input drawn from a generator seeded by the text: an
// embedder that knows nothing, every two texts about equally alike (cosine
// about 0.75), as a misconfigured or unsuitable endpoint would be.
func ArbitraryEmbeddings(dims int) Responder {
	return func(w http.ResponseWriter, r *http.Request, req Request) {
		inputs := inputsOf(req)
		data := make([]any, len(inputs))
		for i, text := range inputs {
			h := fnv.New64a()
			h.Write([]byte(text))
			rng := rand.New(rand.NewPCG(h.Sum64(), 1))
			v := make([]float64, dims)
			for j := range v {
				v[j] = rng.Float64()
			}
			data[i] = map[string]any{"object": "embedding", "index": i, "embedding": v}
		}
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "model": model(req), "data": data,
			"usage": map[string]any{"prompt_tokens": len(inputs), "total_tokens": len(inputs)}})
	}
}

func inputsOf(req Request) []string {
	switch in := req.Body["input"].(type) {
	case string:
		return []string{in}
	case []any:
		out := make([]string, len(in))
		for i, x := range in {
			out[i], _ = x.(string)
		}
		return out
	}
	return nil
}

func model(req Request) string {
	m, _ := req.Body["model"].(string)
	return m
}

func writeChunk(w http.ResponseWriter, req Request, text, finish string) {
	choice := map[string]any{"index": 0, "delta": map[string]any{"content": text}}
	if finish != "" {
		choice["finish_reason"] = finish
	}
	writeEvent(w, map[string]any{"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1, "model": model(req), "choices": []any{choice}})
}

func writeEvent(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintf(w, "data: %s\n\n", b)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
