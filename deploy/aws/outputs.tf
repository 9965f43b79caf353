output "query_api_url" {
  description = "The query API."
  value       = "http://${aws_instance.query_api.public_dns}:${var.query_api_port}/api/v1/series"
}

output "query_api_metrics_url" {
  description = "The latency histograms for Prometheus."
  value       = "http://${aws_instance.query_api.public_dns}:${var.query_api_port}/metrics"
}

output "aggregator_metrics_url" {
  description = "The aggregator's own metrics (samples in, windows out, dead letters, lag)."
  value       = "http://${aws_instance.aggregator.public_dns}:${var.aggregator_port}/metrics"
}

output "agent_metrics_urls" {
  description = "How to list the probe hosts' /metrics (they belong to an auto-scaling group)."
  value       = "aws ec2 describe-instances --region ${var.region} --filters Name=tag:aws:autoscaling:groupName,Values=${aws_autoscaling_group.probe.name} Name=instance-state-name,Values=running --query 'Reservations[].Instances[].PublicDnsName' --output text | tr '\\t' '\\n' | sed 's|.*|http://&:${var.agent_port}/metrics|'"
}

output "kafka_bootstrap_servers" {
  description = "MSK's TLS bootstrap servers (security.protocol=SSL)."
  value       = aws_msk_cluster.this.bootstrap_brokers_tls
}
