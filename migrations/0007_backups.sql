CREATE TABLE `backup_destinations` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`endpoint` text NOT NULL,
	`bucket` text NOT NULL,
	`region` text NOT NULL,
	`access_key_id` text NOT NULL,
	`secret_encrypted` text NOT NULL,
	`secret_hint` text NOT NULL,
	`prefix` text DEFAULT '' NOT NULL,
	`force_path_style` integer DEFAULT true NOT NULL,
	`encrypt` integer DEFAULT false NOT NULL,
	`verified_at` text NOT NULL,
	`created_by` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `backup_destinations_org_name_unique` ON `backup_destinations` (`organization_id`,`name`);--> statement-breakpoint
CREATE TABLE `backups` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`destination_id` text NOT NULL,
	`policy_id` text,
	`target_kind` text NOT NULL,
	`target_id` text NOT NULL,
	`host_id` text,
	`label` text NOT NULL,
	`format` text NOT NULL,
	`object_key` text NOT NULL,
	`status` text NOT NULL,
	`size_bytes` integer,
	`sha256` text,
	`encrypted` integer NOT NULL,
	`engine_version` text,
	`task_id` text,
	`error` text,
	`imported` integer DEFAULT false NOT NULL,
	`created_by` text,
	`created_at` text NOT NULL,
	`finished_at` text,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `backups_org_created_idx` ON `backups` (`organization_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `backups_target_idx` ON `backups` (`organization_id`,`target_kind`,`target_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `backups_org_object_unique` ON `backups` (`organization_id`,`destination_id`,`object_key`);