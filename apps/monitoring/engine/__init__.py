"""Plain Python the monitoring probes are made of (no Django): the log reader, the HTTP check."""
