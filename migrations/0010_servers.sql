CREATE TABLE `server_disks` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`server_id` text NOT NULL,
	`device` text NOT NULL,
	`volume_name` text NOT NULL,
	`mount_path` text NOT NULL,
	`size_gb` integer,
	`created_at` text NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`server_id`) REFERENCES `servers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `server_disks_server_device_unique` ON `server_disks` (`server_id`,`device`);--> statement-breakpoint
CREATE INDEX `server_disks_org_idx` ON `server_disks` (`organization_id`);--> statement-breakpoint
CREATE TABLE `server_roles` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`image` text NOT NULL,
	`command` text,
	`ports` text NOT NULL,
	`health_check` text,
	`data_path` text NOT NULL,
	`firewall_groups` text NOT NULL,
	`env_encrypted` text,
	`builtin` integer DEFAULT false NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `server_roles_org_name_unique` ON `server_roles` (`organization_id`,`name`);--> statement-breakpoint
CREATE TABLE `servers` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`alias` integer NOT NULL,
	`name` text NOT NULL,
	`host_id` text,
	`project_id` text,
	`role` text,
	`image` text NOT NULL,
	`cpu` real,
	`memory_mb` integer,
	`disk_gb` integer,
	`ip_address` text,
	`network_id` text,
	`network_name` text,
	`volume_name` text NOT NULL,
	`container_id` text,
	`status` text NOT NULL,
	`last_error` text,
	`task_id` text,
	`config` text NOT NULL,
	`env_encrypted` text,
	`created_by` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `servers_org_name_unique` ON `servers` (`organization_id`,`name`);--> statement-breakpoint
CREATE UNIQUE INDEX `servers_org_alias_unique` ON `servers` (`organization_id`,`alias`);--> statement-breakpoint
CREATE UNIQUE INDEX `servers_host_ip_unique` ON `servers` (`host_id`,`ip_address`);--> statement-breakpoint
CREATE INDEX `servers_org_created_idx` ON `servers` (`organization_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `servers_project_idx` ON `servers` (`project_id`);--> statement-breakpoint
CREATE INDEX `servers_host_idx` ON `servers` (`host_id`);