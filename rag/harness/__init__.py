"""Measuring instruments, not pipeline stages: `rag eval` (quality on a QA set) and `rag bench`
(latency, throughput, memory). They use the library as a person's answer would, and write
every number to JSON."""
