package api

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus collectors, on a registry of its own.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	steps    *prometheus.HistogramVec
	answers  *prometheus.CounterVec
}

// newMetrics registers the HTTP collectors on reg, or on a new registry with
// the Go and process collectors when reg is nil.
func newMetrics(reg *prometheus.Registry) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m := &metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_http_requests_total",
			Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "parley_http_request_duration_seconds",
			Help:    "HTTP request latency by method, route and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"method", "route", "status"}),
		steps: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "parley_answer_step_duration_seconds",
			Help:    "Time of the reply engine's steps per /v1/answer: embed, search, rank, customer (storing the customer's message, during the search), generate, outcome (storing the answer or escalation), total.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"step"}),
		answers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_answers_total",
			Help: "Customer messages handled by /v1/answer, by status (answered, escalated) and escalation reason.",
		}, []string{"status", "reason"}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.steps, m.answers)
	return m
}
