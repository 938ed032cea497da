# Stateful services: RDS PostgreSQL, ElastiCache Redis (one primary + replica, cluster mode
# DISABLED: redisstore refuses Redis Cluster), MSK.

resource "aws_security_group" "data" {
  name   = "${var.name}-data"
  vpc_id = var.vpc_id
  ingress {
    from_port       = 0
    to_port         = 65535
    protocol        = "tcp"
    security_groups = [aws_security_group.tasks.id]
  }
}

resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.private_subnet_ids
}

resource "aws_db_instance" "postgres" {
  identifier                  = var.name
  engine                      = "postgres"
  engine_version              = "16"
  instance_class              = var.db_instance_class
  allocated_storage           = 50
  storage_encrypted           = true
  db_name                     = "vidlib"
  username                    = "vidlib"
  manage_master_user_password = true # the password lives in Secrets Manager
  db_subnet_group_name        = aws_db_subnet_group.this.name
  vpc_security_group_ids      = [aws_security_group.data.id]
  multi_az                    = true
  backup_retention_period     = 7
  deletion_protection         = true
  skip_final_snapshot         = false
  final_snapshot_identifier   = "${var.name}-final"
}

resource "aws_elasticache_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.private_subnet_ids
}

resource "aws_elasticache_replication_group" "redis" {
  replication_group_id       = var.name
  description                = "vidlib caches and feeds (cluster mode disabled)"
  engine                     = "redis"
  engine_version             = "7.1"
  node_type                  = var.cache_node_type
  num_cache_clusters         = 2 # primary + replica; NOT cluster mode
  automatic_failover_enabled = true
  transit_encryption_enabled = true
  at_rest_encryption_enabled = true
  auth_token                 = random_password.redis.result
  subnet_group_name          = aws_elasticache_subnet_group.this.name
  security_group_ids         = [aws_security_group.data.id]
}

resource "random_password" "redis" {
  length  = 48
  special = false
}

resource "aws_msk_cluster" "kafka" {
  cluster_name           = var.name
  kafka_version          = "3.7.x"
  number_of_broker_nodes = length(var.private_subnet_ids)
  broker_node_group_info {
    instance_type   = var.kafka_instance_type
    client_subnets  = var.private_subnet_ids
    security_groups = [aws_security_group.data.id]
    storage_info {
      ebs_storage_info {
        volume_size = 100
      }
    }
  }
  encryption_info {
    encryption_in_transit {
      client_broker = "TLS_PLAINTEXT" # vidlib's kafka-go connects in plaintext inside the VPC; switch to TLS when the client supports it
    }
  }
}

# Secrets the tasks read as environment variables (never flags, never logged).
resource "aws_secretsmanager_secret" "app" {
  for_each = toset(["VIDLIB_VIMEO_TOKEN", "VIDLIB_VIMEO_WEBHOOK_SECRETS", "VIDLIB_POSTGRES_URL", "VIDLIB_REDIS_URL", "VIDLIB_CONSOLE_SESSION_KEY"])
  name     = "${var.name}/${each.key}"
}
# Fill them out of band, e.g.:
#   aws secretsmanager put-secret-value --secret-id vidlib/VIDLIB_VIMEO_TOKEN --secret-string "$TOKEN"
#   VIDLIB_POSTGRES_URL = postgres://vidlib:<rds password>@<endpoint>:5432/vidlib?sslmode=require
#   VIDLIB_REDIS_URL    = rediss://:<auth token>@<primary endpoint>:6379/0
#   VIDLIB_CONSOLE_SESSION_KEY = 32 random bytes, e.g. $(openssl rand -hex 32)
