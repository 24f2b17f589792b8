CREATE TABLE `alert_rules` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`scope` text NOT NULL,
	`metric` text NOT NULL,
	`threshold` real NOT NULL,
	`duration_seconds` integer NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alert_rules_scope_metric_unique` ON `alert_rules` (`organization_id`,`scope`,`metric`);--> statement-breakpoint
CREATE TABLE `alerts` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`host_id` text NOT NULL,
	`metric` text NOT NULL,
	`threshold` real NOT NULL,
	`duration_seconds` integer NOT NULL,
	`state` text NOT NULL,
	`value` real NOT NULL,
	`peak_value` real NOT NULL,
	`since` text NOT NULL,
	`fired_at` text,
	`acknowledged_at` text,
	`acknowledged_by` text,
	`resolved_at` text,
	`resolved_by` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `alerts_org_created_idx` ON `alerts` (`organization_id`,`created_at`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `alerts_host_metric_live_unique` ON `alerts` (`host_id`,`metric`) WHERE "alerts"."state" in ('pending', 'firing');--> statement-breakpoint
CREATE TABLE `container_metrics` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`organization_id` text NOT NULL,
	`host_id` text NOT NULL,
	`container_id` text NOT NULL,
	`container_name` text NOT NULL,
	`resolution` integer NOT NULL,
	`at` text NOT NULL,
	`samples` integer DEFAULT 1 NOT NULL,
	`cpu_percent` real NOT NULL,
	`cpu_max` real NOT NULL,
	`memory_usage` real NOT NULL,
	`memory_limit` real NOT NULL,
	`memory_percent` real NOT NULL,
	`memory_max` real NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `container_metrics_series_unique` ON `container_metrics` (`host_id`,`container_id`,`resolution`,`at`);--> statement-breakpoint
CREATE INDEX `container_metrics_prune_idx` ON `container_metrics` (`resolution`,`at`);--> statement-breakpoint
CREATE TABLE `host_metrics` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`organization_id` text NOT NULL,
	`host_id` text NOT NULL,
	`resolution` integer NOT NULL,
	`at` text NOT NULL,
	`samples` integer DEFAULT 1 NOT NULL,
	`source` text NOT NULL,
	`cpu_percent` real,
	`cpu_max` real,
	`memory_percent` real,
	`memory_max` real,
	`memory_used` real,
	`memory_total` real,
	`disk_percent` real,
	`disk_used` real,
	`disk_total` real,
	`network_in` real,
	`network_out` real,
	`load_1` real,
	`load_5` real,
	`load_15` real,
	`containers_running` real,
	`active_connections` real,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `host_metrics_series_unique` ON `host_metrics` (`host_id`,`resolution`,`at`);--> statement-breakpoint
CREATE INDEX `host_metrics_prune_idx` ON `host_metrics` (`resolution`,`at`);--> statement-breakpoint
CREATE TABLE `notification_channels` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`type` text NOT NULL,
	`name` text NOT NULL,
	`config_sealed` text NOT NULL,
	`events` text,
	`enabled` integer DEFAULT true NOT NULL,
	`created_by` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `notification_channels_org_idx` ON `notification_channels` (`organization_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `notification_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`channel_id` text NOT NULL,
	`notification_id` text,
	`kind` text NOT NULL,
	`payload` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_status_code` integer,
	`last_error` text,
	`next_attempt_at` text,
	`delivered_at` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`channel_id`) REFERENCES `notification_channels`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `notification_deliveries_due_idx` ON `notification_deliveries` (`channel_id`,`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `notification_deliveries_channel_created_idx` ON `notification_deliveries` (`channel_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `notification_deliveries_created_idx` ON `notification_deliveries` (`created_at`);--> statement-breakpoint
CREATE TABLE `notification_settings` (
	`organization_id` text PRIMARY KEY NOT NULL,
	`disabled_kinds` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `notifications` (
	`id` text NOT NULL,
	`user_id` text NOT NULL,
	`organization_id` text NOT NULL,
	`kind` text NOT NULL,
	`severity` text NOT NULL,
	`title` text NOT NULL,
	`message` text NOT NULL,
	`target_type` text,
	`target_id` text,
	`data` text,
	`read_at` text,
	`created_at` text NOT NULL,
	PRIMARY KEY(`id`, `user_id`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `notifications_inbox_idx` ON `notifications` (`user_id`,`organization_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `notifications_created_idx` ON `notifications` (`created_at`);--> statement-breakpoint
CREATE TABLE `tasks` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`kind` text NOT NULL,
	`status` text NOT NULL,
	`progress` integer DEFAULT 0 NOT NULL,
	`message` text,
	`target_type` text,
	`target_id` text,
	`created_by` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`started_at` text,
	`finished_at` text,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `tasks_org_created_idx` ON `tasks` (`organization_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `tasks_target_idx` ON `tasks` (`organization_id`,`target_type`,`target_id`);