variable "name" {
  description = "Prefix of every resource's name."
  type        = string
  default     = "tailprobe"
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-west-1"
}

variable "vpc_cidr" {
  description = "CIDR of the VPC; two public and two private /20 subnets are cut from it."
  type        = string
  default     = "10.42.0.0/16"
}

variable "tailprobe_jar_url" {
  description = "Where the hosts download standalone/target/tailprobe.jar from (an HTTPS or pre-signed S3 URL)."
  type        = string
}

variable "allowed_cidrs" {
  description = "Who may reach the query API (8080) and the services' /metrics (9101, 9102)."
  type        = list(string)
  default     = []
}

variable "probe_count" {
  description = "Probe hosts (one agent each) in the auto-scaling group."
  type        = number
  default     = 2
}

variable "probe_instance_type" {
  description = "An agent at a few thousand probes/s needs about one vCPU (docs/PERFORMANCE.md)."
  type        = string
  default     = "t3.small"
}

variable "aggregator_instance_type" {
  description = "The aggregator measured ~34,000 samples/s on one stream thread (docs/PERFORMANCE.md)."
  type        = string
  default     = "m6i.large"
}

variable "query_api_instance_type" {
  description = "The query API host; its state (the materialized windows) is on the root volume."
  type        = string
  default     = "m6i.large"
}

variable "query_api_volume_gb" {
  description = "Root volume of the query API host: a week of 10 s windows of 100 series took 5.2 GB."
  type        = number
  default     = 50
}

variable "agent_port" {
  description = "The agent's /health and /metrics (http.port)."
  type        = number
  default     = 9101
}

variable "aggregator_port" {
  description = "The aggregator's /health and /metrics (http.port)."
  type        = number
  default     = 9102
}

variable "query_api_port" {
  description = "The query API (http.port)."
  type        = number
  default     = 8080
}

variable "udp_echo_port" {
  description = "The agents answer each other's UDP echo probes here (udpEcho.port)."
  type        = number
  default     = 7007
}

variable "agent_targets_yaml" {
  description = "The agents' targets: YAML of the agent configuration's `targets` list (README: Point an agent at your own targets)."
  type        = string
  default     = <<-EOT
    - name: aws-dns
      type: dns
      address: 169.254.169.253:53
      dns: {name: amazon.com, recordType: A, transport: udp}
    - name: example-https
      type: http
      address: https://example.com/
  EOT
}

variable "kafka_version" {
  description = "MSK's Kafka version."
  type        = string
  default     = "3.8.x"
}

variable "msk_instance_type" {
  description = "MSK broker instance type."
  type        = string
  default     = "kafka.m5.large"
}

variable "msk_broker_count" {
  description = "Brokers, a multiple of the two private subnets."
  type        = number
  default     = 2
}

variable "msk_volume_gb" {
  description = "EBS storage per broker."
  type        = number
  default     = 100
}

variable "manage_topics" {
  description = "Create the topics with terraform (needs a route to the brokers); false leaves it to the aggregator."
  type        = bool
  default     = true
}

variable "topic_partitions" {
  description = "Partitions of latency.samples and the histogram topics: the most aggregator and query API instances that share the work."
  type        = number
  default     = 6
}
