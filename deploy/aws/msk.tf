locals {
  replication = min(3, var.msk_broker_count)
  # Client settings for MSK's TLS listener; the JVM's default trust store holds Amazon's CAs.
  kafka_env = {
    TAILPROBE_KAFKA_BOOTSTRAP_SERVERS = aws_msk_cluster.this.bootstrap_brokers_tls
    TAILPROBE_KAFKA_SECURITY_PROTOCOL = "SSL"
  }
}

resource "aws_msk_configuration" "this" {
  name              = var.name
  kafka_versions    = [var.kafka_version]
  server_properties = <<-EOT
    auto.create.topics.enable=false
    default.replication.factor=${local.replication}
    min.insync.replicas=${max(1, local.replication - 1)}
    offsets.topic.replication.factor=${local.replication}
    transaction.state.log.replication.factor=${local.replication}
    transaction.state.log.min.isr=${max(1, local.replication - 1)}
  EOT
}

resource "aws_msk_cluster" "this" {
  cluster_name           = var.name
  kafka_version          = var.kafka_version
  number_of_broker_nodes = var.msk_broker_count

  broker_node_group_info {
    instance_type   = var.msk_instance_type
    client_subnets  = aws_subnet.private[*].id
    security_groups = [aws_security_group.msk.id]
    storage_info {
      ebs_storage_info {
        volume_size = var.msk_volume_gb
      }
    }
  }

  configuration_info {
    arn      = aws_msk_configuration.this.arn
    revision = aws_msk_configuration.this.latest_revision
  }

  encryption_info {
    encryption_in_transit {
      client_broker = "TLS"
      in_cluster    = true
    }
  }
}

# The topics as the aggregator would create them (TopicSpecs): raw samples kept 7 days, the dead
# letters, and one compacted topic per resolution with that resolution's retention
# (window.retention: 10s 7d, 1m 90d, 10m 365d, 1h 730d). The aggregator keeps retention.ms in line at start.
locals {
  topics = {
    "latency.samples" = {
      "cleanup.policy" = "delete"
      "retention.ms"   = "604800000"
    }
    "latency.samples.dead-letter" = {
      "cleanup.policy" = "delete"
      "retention.ms"   = "604800000"
    }
    "latency.histograms.10s" = {
      "cleanup.policy" = "compact,delete"
      "retention.ms"   = "604800000"
    }
    "latency.histograms.1m" = {
      "cleanup.policy" = "compact,delete"
      "retention.ms"   = "7776000000"
    }
    "latency.histograms.10m" = {
      "cleanup.policy" = "compact,delete"
      "retention.ms"   = "31536000000"
    }
    "latency.histograms.1h" = {
      "cleanup.policy" = "compact,delete"
      "retention.ms"   = "63072000000"
    }
  }
}

resource "kafka_topic" "this" {
  for_each           = var.manage_topics ? local.topics : {}
  name               = each.key
  partitions         = var.topic_partitions
  replication_factor = local.replication
  config             = each.value
}
