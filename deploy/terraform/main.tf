# Reference deployment of vidlib on AWS: ECS Fargate services api, sync, consume and admin
# from one image, behind an ALB; RDS PostgreSQL, ElastiCache Redis, MSK (data.tf); an
# EventBridge schedule that runs `vidlib sync --once` (a full reconciliation) as an ECS task;
# secrets from Secrets Manager; logs to CloudWatch. UNTESTED: no terraform binary or AWS
# account was available where it was written. Read it as a description; plan before apply.

terraform {
  required_version = ">= 1.6"
  required_providers {
    aws    = { source = "hashicorp/aws", version = "~> 5.0" }
    random = { source = "hashicorp/random", version = "~> 3.6" }
  }
}

provider "aws" {
  region = var.region
}

locals {
  # Settings shared by every service (VIDLIB_* variables; see servers/config).
  environment = [
    { name = "VIDLIB_KAFKA_BROKERS", value = aws_msk_cluster.kafka.bootstrap_brokers },
    { name = "VIDLIB_VIMEO_ROOT_FOLDER_ID", value = var.vimeo_root_folder_id },
    { name = "VIDLIB_COGNITO_REGION", value = var.cognito_region },
    { name = "VIDLIB_COGNITO_USER_POOL_ID", value = var.cognito_user_pool_id },
    { name = "VIDLIB_COGNITO_CLIENT_IDS", value = join(",", var.cognito_client_ids) },
    { name = "VIDLIB_LOG_FORMAT", value = "json" },
    { name = "VIDLIB_SHUTDOWN_TIMEOUT", value = "20s" },
  ]
  secrets = [for k, s in aws_secretsmanager_secret.app : { name = k, valueFrom = s.arn }]

  # name => command, listen port behind the ALB (0: none), desired count, cpu, memory, and
  # settings of that service alone. The admin console signs in through the user pool's
  # hosted UI and comes back to its own host (var.admin_host).
  services = {
    api     = { command = ["api"], port = 8080, count = var.api_count, cpu = 512, memory = 1024, env = [] }
    sync    = { command = ["sync"], port = 8081, count = 1, cpu = 256, memory = 512, env = [] }
    consume = { command = ["consume"], port = 0, count = 1, cpu = 256, memory = 512, env = [] }
    admin = { command = ["admin"], port = 8082, count = 1, cpu = 256, memory = 512, env = [
      { name = "VIDLIB_CONSOLE_REDIRECT_URL", value = "https://${var.admin_host}/auth/callback" },
    ] }
  }
}

resource "aws_ecs_cluster" "this" {
  name = var.name
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/ecs/${var.name}"
  retention_in_days = 30
}

data "aws_iam_policy_document" "assume_ecs" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.assume_ecs.json
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_iam_role_policy" "secrets" {
  role = aws_iam_role.execution.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["secretsmanager:GetSecretValue"], Resource = [for s in aws_secretsmanager_secret.app : s.arn] }]
  })
}

resource "aws_security_group" "alb" {
  name   = "${var.name}-alb"
  vpc_id = var.vpc_id
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "tasks" {
  name   = "${var.name}-tasks"
  vpc_id = var.vpc_id
  ingress {
    from_port       = 8080
    to_port         = 9090
    protocol        = "tcp"
    security_groups = [aws_security_group.alb.id]
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"] # Vimeo, Cognito JWKS, HubSpot
  }
}

resource "aws_ecs_task_definition" "svc" {
  for_each                 = merge(local.services, { reconcile = { command = ["sync", "--once"], port = 0, count = 0, cpu = 256, memory = 512 } })
  family                   = "${var.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = each.value.cpu
  memory                   = each.value.memory
  execution_role_arn       = aws_iam_role.execution.arn
  container_definitions = jsonencode([{
    name      = each.key
    image     = var.image
    command   = each.value.command
    essential = true
    # GOMEMLIMIT: the Go runtime collects harder near 80% of the task's memory.
    environment = concat(local.environment, each.value.env, [{ name = "GOMEMLIMIT", value = "${floor(each.value.memory * 0.8)}MiB" }])
    secrets     = local.secrets
    stopTimeout = 30 # > VIDLIB_SHUTDOWN_TIMEOUT: SIGTERM, drain, exit
    portMappings = concat(
      each.value.port > 0 ? [{ containerPort = each.value.port }] : [],
      [{ containerPort = 9090 }],
    )
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this.name
        awslogs-region        = var.region
        awslogs-stream-prefix = each.key
      }
    }
  }])
}

resource "aws_ecs_service" "svc" {
  for_each        = local.services
  name            = each.key
  cluster         = aws_ecs_cluster.this.id
  task_definition = aws_ecs_task_definition.svc[each.key].arn
  desired_count   = each.value.count
  launch_type     = "FARGATE"
  network_configuration {
    subnets         = var.private_subnet_ids
    security_groups = [aws_security_group.tasks.id]
  }
  dynamic "load_balancer" {
    for_each = each.value.port > 0 ? [each.value.port] : []
    content {
      target_group_arn = aws_lb_target_group.svc[each.key].arn
      container_name   = each.key
      container_port   = load_balancer.value
    }
  }
}

# ALB: /admin* → admin, /webhooks/vimeo → sync, everything else → api. Target health is
# liveness, /healthz on the metrics port 9090: an outage of a shared dependency
# (PostgreSQL, Redis, Kafka) must not take every target out of the ALB or get tasks
# replaced while they still serve from their loaded snapshot. /readyz (which
# dependency is down) is for operators and the deploy's start-up gate.
resource "aws_lb" "this" {
  name               = var.name
  load_balancer_type = "application"
  subnets            = var.public_subnet_ids
  security_groups    = [aws_security_group.alb.id]
}

resource "aws_lb_target_group" "svc" {
  for_each    = { for k, v in local.services : k => v if v.port > 0 }
  name        = "${var.name}-${each.key}"
  port        = each.value.port
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = var.vpc_id
  health_check {
    path    = "/healthz"
    port    = "9090"
    matcher = "200"
  }
  deregistration_delay = 25
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  certificate_arn   = var.certificate_arn
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.svc["api"].arn
  }
}

# The admin console is served at / of its own host; its JSON API also answers under /admin
# on the main host.
resource "aws_lb_listener_rule" "admin_host" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 5
  condition {
    host_header {
      values = [var.admin_host]
    }
  }
  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.svc["admin"].arn
  }
}

resource "aws_lb_listener_rule" "admin" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 10
  condition {
    path_pattern {
      values = ["/admin", "/admin/*"]
    }
  }
  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.svc["admin"].arn
  }
}

resource "aws_lb_listener_rule" "webhooks" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 20
  condition {
    path_pattern {
      values = ["/webhooks/*"]
    }
  }
  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.svc["sync"].arn
  }
}

# EventBridge: run a full reconciliation on a schedule as a one-off ECS task.
resource "aws_iam_role" "events" {
  name = "${var.name}-events"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "events.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy" "events" {
  role = aws_iam_role.events.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Effect = "Allow", Action = "ecs:RunTask", Resource = aws_ecs_task_definition.svc["reconcile"].arn },
      { Effect = "Allow", Action = "iam:PassRole", Resource = aws_iam_role.execution.arn },
    ]
  })
}

resource "aws_cloudwatch_event_rule" "reconcile" {
  name                = "${var.name}-reconcile"
  schedule_expression = var.reconcile_schedule
}

resource "aws_cloudwatch_event_target" "reconcile" {
  rule     = aws_cloudwatch_event_rule.reconcile.name
  arn      = aws_ecs_cluster.this.arn
  role_arn = aws_iam_role.events.arn
  ecs_target {
    task_definition_arn = aws_ecs_task_definition.svc["reconcile"].arn
    launch_type         = "FARGATE"
    task_count          = 1
    network_configuration {
      subnets         = var.private_subnet_ids
      security_groups = [aws_security_group.tasks.id]
    }
  }
}
