# Each part opens only what it needs: agents their /metrics to allowed_cidrs and UDP echo to each other;
# the aggregator its /metrics; the query API its port; MSK its TLS listener to the three of them.
# No SSH: reach the hosts with SSM Session Manager.

resource "aws_security_group" "agent" {
  name        = "${var.name}-agent"
  description = "Tailprobe probe agents"
  vpc_id      = aws_vpc.this.id
}

resource "aws_security_group" "aggregator" {
  name        = "${var.name}-aggregator"
  description = "Tailprobe aggregator"
  vpc_id      = aws_vpc.this.id
}

resource "aws_security_group" "query_api" {
  name        = "${var.name}-query-api"
  description = "Tailprobe query API"
  vpc_id      = aws_vpc.this.id
}

resource "aws_security_group" "msk" {
  name        = "${var.name}-msk"
  description = "MSK brokers: TLS listener for the Tailprobe services"
  vpc_id      = aws_vpc.this.id
}

resource "aws_vpc_security_group_ingress_rule" "agent_metrics" {
  for_each          = toset(var.allowed_cidrs)
  security_group_id = aws_security_group.agent.id
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = var.agent_port
  to_port           = var.agent_port
  description       = "agent /health and /metrics"
}

resource "aws_vpc_security_group_ingress_rule" "agent_udp_echo" {
  security_group_id            = aws_security_group.agent.id
  referenced_security_group_id = aws_security_group.agent.id
  ip_protocol                  = "udp"
  from_port                    = var.udp_echo_port
  to_port                      = var.udp_echo_port
  description                  = "UDP echo between agents (udp targets)"
}

resource "aws_vpc_security_group_ingress_rule" "agent_icmp" {
  security_group_id            = aws_security_group.agent.id
  referenced_security_group_id = aws_security_group.agent.id
  ip_protocol                  = "icmp"
  from_port                    = 8
  to_port                      = 0
  description                  = "ICMP echo between agents (icmp targets)"
}

resource "aws_vpc_security_group_ingress_rule" "aggregator_metrics" {
  for_each          = toset(var.allowed_cidrs)
  security_group_id = aws_security_group.aggregator.id
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = var.aggregator_port
  to_port           = var.aggregator_port
  description       = "aggregator /health and /metrics"
}

resource "aws_vpc_security_group_ingress_rule" "query_api" {
  for_each          = toset(var.allowed_cidrs)
  security_group_id = aws_security_group.query_api.id
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = var.query_api_port
  to_port           = var.query_api_port
  description       = "query API"
}

resource "aws_vpc_security_group_ingress_rule" "msk_tls" {
  for_each = {
    agent      = aws_security_group.agent.id
    aggregator = aws_security_group.aggregator.id
    query_api  = aws_security_group.query_api.id
  }
  security_group_id            = aws_security_group.msk.id
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 9094
  to_port                      = 9094
  description                  = "Kafka TLS from the ${each.key}"
}

# Outbound: agents probe anything; every host downloads the jar and Java and reaches MSK.
resource "aws_vpc_security_group_egress_rule" "all" {
  for_each = {
    agent      = aws_security_group.agent.id
    aggregator = aws_security_group.aggregator.id
    query_api  = aws_security_group.query_api.id
  }
  security_group_id = each.value
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1"
  description       = "outbound"
}
