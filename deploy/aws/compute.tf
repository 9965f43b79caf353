data "aws_ssm_parameter" "al2023" {
  name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}

locals {
  configs = {
    agent = templatefile("${path.module}/config/agent.yaml.tftpl", {
      agent_port         = var.agent_port
      udp_echo_port      = var.udp_echo_port
      agent_targets_yaml = var.agent_targets_yaml
    })
    aggregator = templatefile("${path.module}/config/aggregator.yaml.tftpl", {
      aggregator_port  = var.aggregator_port
      topic_partitions = var.topic_partitions
      replication      = local.replication
    })
    query-api = templatefile("${path.module}/config/query-api.yaml.tftpl", {
      query_api_port = var.query_api_port
    })
  }
  user_data = {
    for service, config in local.configs : service => templatefile("${path.module}/user-data.sh.tftpl", {
      service = service
      jar_url = var.tailprobe_jar_url
      unit    = file("${path.module}/../systemd/tailprobe@.service")
      config  = config
      env     = local.kafka_env
    })
  }
}

# Session Manager instead of SSH.
resource "aws_iam_role" "host" {
  name = "${var.name}-host"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "ec2.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_iam_role_policy_attachment" "ssm" {
  role       = aws_iam_role.host.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "host" {
  name = "${var.name}-host"
  role = aws_iam_role.host.name
}

resource "aws_launch_template" "probe" {
  name_prefix            = "${var.name}-probe-"
  image_id               = data.aws_ssm_parameter.al2023.value
  instance_type          = var.probe_instance_type
  vpc_security_group_ids = [aws_security_group.agent.id]
  user_data              = base64encode(local.user_data["agent"])
  iam_instance_profile {
    arn = aws_iam_instance_profile.host.arn
  }
  metadata_options {
    http_tokens = "required"
  }
  tag_specifications {
    resource_type = "instance"
    tags          = { Name = "${var.name}-probe", Role = "tailprobe-agent" }
  }
}

resource "aws_autoscaling_group" "probe" {
  name                = "${var.name}-probe"
  min_size            = var.probe_count
  max_size            = var.probe_count
  desired_capacity    = var.probe_count
  vpc_zone_identifier = aws_subnet.public[*].id
  launch_template {
    id      = aws_launch_template.probe.id
    version = aws_launch_template.probe.latest_version
  }
  instance_refresh {
    strategy = "Rolling"
  }
  depends_on = [kafka_topic.this]
}

resource "aws_instance" "aggregator" {
  ami                    = data.aws_ssm_parameter.al2023.value
  instance_type          = var.aggregator_instance_type
  subnet_id              = aws_subnet.public[0].id
  vpc_security_group_ids = [aws_security_group.aggregator.id]
  iam_instance_profile   = aws_iam_instance_profile.host.name
  user_data              = local.user_data["aggregator"]
  metadata_options {
    http_tokens = "required"
  }
  tags       = { Name = "${var.name}-aggregator", Role = "tailprobe-aggregator" }
  depends_on = [kafka_topic.this]
}

resource "aws_instance" "query_api" {
  ami                    = data.aws_ssm_parameter.al2023.value
  instance_type          = var.query_api_instance_type
  subnet_id              = aws_subnet.public[1].id
  vpc_security_group_ids = [aws_security_group.query_api.id]
  iam_instance_profile   = aws_iam_instance_profile.host.name
  user_data              = local.user_data["query-api"]
  root_block_device {
    volume_size = var.query_api_volume_gb
    volume_type = "gp3"
  }
  metadata_options {
    http_tokens = "required"
  }
  tags = { Name = "${var.name}-query-api", Role = "tailprobe-query-api" }
  # It serves the histogram topics it finds at start: after the aggregator (or terraform) made them.
  depends_on = [aws_instance.aggregator, kafka_topic.this]
}
