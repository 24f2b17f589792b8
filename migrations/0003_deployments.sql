CREATE TABLE `applications` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`project_id` text NOT NULL,
	`host_id` text,
	`name` text NOT NULL,
	`app_name` text NOT NULL,
	`description` text,
	`source_type` text,
	`image` text,
	`pull_policy` text DEFAULT 'missing' NOT NULL,
	`registry_auth_encrypted` text,
	`git_url` text,
	`git_branch` text DEFAULT 'main' NOT NULL,
	`git_path` text,
	`git_credentials_encrypted` text,
	`git_auth` text,
	`build_type` text DEFAULT 'dockerfile' NOT NULL,
	`dockerfile` text,
	`publish_dir` text,
	`static_image` text,
	`compose_file` text,
	`env_encrypted` text,
	`ports` text,
	`command` text,
	`cpus` real,
	`memory_bytes` integer,
	`restart_policy` text DEFAULT 'unless-stopped' NOT NULL,
	`health_check` text,
	`deploy_timeout_seconds` integer DEFAULT 1800 NOT NULL,
	`webhook_token_hash` text NOT NULL,
	`webhook_token_encrypted` text NOT NULL,
	`webhook_secret_encrypted` text NOT NULL,
	`status` text DEFAULT 'idle' NOT NULL,
	`current_deployment_id` text,
	`current_image` text,
	`container_id` text,
	`created_by` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `applications_org_app_name_unique` ON `applications` (`organization_id`,`app_name`);--> statement-breakpoint
CREATE UNIQUE INDEX `applications_webhook_token_unique` ON `applications` (`webhook_token_hash`);--> statement-breakpoint
CREATE INDEX `applications_project_idx` ON `applications` (`project_id`);--> statement-breakpoint
CREATE INDEX `applications_org_created_idx` ON `applications` (`organization_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `database_services` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`project_id` text NOT NULL,
	`host_id` text,
	`engine` text NOT NULL,
	`name` text NOT NULL,
	`app_name` text NOT NULL,
	`description` text,
	`image` text NOT NULL,
	`database_name` text,
	`database_user` text,
	`password_encrypted` text NOT NULL,
	`root_password_encrypted` text,
	`internal_port` integer NOT NULL,
	`external_port` integer,
	`volume_name` text NOT NULL,
	`command` text,
	`status` text DEFAULT 'idle' NOT NULL,
	`last_error` text,
	`container_id` text,
	`created_by` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `database_services_org_app_name_unique` ON `database_services` (`organization_id`,`app_name`);--> statement-breakpoint
CREATE INDEX `database_services_project_idx` ON `database_services` (`project_id`);--> statement-breakpoint
CREATE TABLE `deployment_logs` (
	`deployment_id` text NOT NULL,
	`seq` integer NOT NULL,
	`organization_id` text NOT NULL,
	`stream` text NOT NULL,
	`data` text NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`deployment_id`, `seq`),
	FOREIGN KEY (`deployment_id`) REFERENCES `deployments`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `deployments` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`application_id` text NOT NULL,
	`host_id` text,
	`status` text NOT NULL,
	`trigger` text NOT NULL,
	`title` text NOT NULL,
	`ref` text,
	`commit_sha` text,
	`commit_message` text,
	`image_tag` text,
	`image_id` text,
	`rollback_of` text,
	`task_id` text,
	`error` text,
	`container_id` text,
	`webhook_delivery_id` text,
	`timeout_seconds` integer NOT NULL,
	`created_by` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`started_at` text,
	`finished_at` text,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`application_id`) REFERENCES `applications`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `deployments_app_created_idx` ON `deployments` (`application_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `deployments_org_status_idx` ON `deployments` (`organization_id`,`status`);--> statement-breakpoint
CREATE TABLE `domains` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`application_id` text NOT NULL,
	`host` text NOT NULL,
	`path` text DEFAULT '/' NOT NULL,
	`https` integer DEFAULT false NOT NULL,
	`certificate_type` text DEFAULT 'none' NOT NULL,
	`container_port` integer,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`application_id`) REFERENCES `applications`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `domains_org_host_unique` ON `domains` (`organization_id`,`host`);--> statement-breakpoint
CREATE INDEX `domains_app_idx` ON `domains` (`application_id`);--> statement-breakpoint
CREATE TABLE `projects` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `projects_org_name_unique` ON `projects` (`organization_id`,`name`);--> statement-breakpoint
CREATE INDEX `projects_org_created_idx` ON `projects` (`organization_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`application_id` text NOT NULL,
	`provider` text NOT NULL,
	`event` text,
	`delivery_id` text,
	`dedupe_key` text,
	`verified` integer NOT NULL,
	`outcome` text NOT NULL,
	`detail` text,
	`ref` text,
	`commit_sha` text,
	`deployment_id` text,
	`created_at` text NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`application_id`) REFERENCES `applications`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_deliveries_dedupe_unique` ON `webhook_deliveries` (`application_id`,`dedupe_key`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_app_created_idx` ON `webhook_deliveries` (`application_id`,`created_at`);