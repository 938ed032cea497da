variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "vidlib"
}

variable "region" {
  description = "AWS region."
  type        = string
}

variable "image" {
  description = "Container image of vidlib (the repository's Dockerfile), e.g. <account>.dkr.ecr.<region>.amazonaws.com/vidlib:v1.2.3."
  type        = string
}

variable "vpc_id" {
  type = string
}

variable "private_subnet_ids" {
  description = "Subnets of the tasks, RDS, ElastiCache and MSK."
  type        = list(string)
}

variable "public_subnet_ids" {
  description = "Subnets of the ALB."
  type        = list(string)
}

variable "certificate_arn" {
  description = "ACM certificate of the ALB's HTTPS listener."
  type        = string
}

variable "vimeo_root_folder_id" {
  type = string
}

variable "cognito_region" {
  type = string
}

variable "cognito_user_pool_id" {
  type = string
}

variable "cognito_client_ids" {
  type = list(string)
}

variable "admin_host" {
  description = "host name of the admin console (e.g. admin.example.com): the ALB sends it to the admin service, the certificate must cover it, and https://<admin_host>/auth/callback must be a callback URL of the console's Cognito app client"
  type        = string
}

variable "api_count" {
  type    = number
  default = 2
}

variable "reconcile_schedule" {
  description = "EventBridge schedule of the full reconciliation (vidlib sync --once)."
  type        = string
  default     = "rate(6 hours)"
}

variable "db_instance_class" {
  type    = string
  default = "db.t4g.medium"
}

variable "cache_node_type" {
  type    = string
  default = "cache.t4g.small"
}

variable "kafka_instance_type" {
  type    = string
  default = "kafka.t3.small"
}
