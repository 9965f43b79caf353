terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.70"
    }
    kafka = {
      source  = "Mongey/kafka"
      version = "~> 0.8"
    }
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = { Project = "tailprobe", Stack = var.name }
  }
}

# Topics are created through the brokers themselves: the machine running terraform must reach MSK's
# TLS listener (a VPN, a bastion, or run it from inside the VPC). With manage_topics = false the
# aggregator creates missing topics at start-up instead (topic_partitions, replication 3).
provider "kafka" {
  bootstrap_servers = split(",", aws_msk_cluster.this.bootstrap_brokers_tls)
  tls_enabled       = true
}
