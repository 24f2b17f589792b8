CREATE TABLE `backup_policies` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`name` text NOT NULL,
	`target_kind` text NOT NULL,
	`target_host_id` text,
	`target_ref` text NOT NULL,
	`schedule` text NOT NULL,
	`timezone` text NOT NULL,
	`keep_last` integer,
	`max_age_days` integer,
	`destination_id` text DEFAULT 'default' NOT NULL,
	`notify` text NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`next_run_at` text,
	`last_run_id` text,
	`created_by` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `backup_policies_org_idx` ON `backup_policies` (`organization_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `backup_policies_target_idx` ON `backup_policies` (`organization_id`,`target_kind`,`target_ref`);--> statement-breakpoint
CREATE TABLE `backup_policy_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`policy_id` text NOT NULL,
	`trigger` text NOT NULL,
	`scheduled_for` text,
	`status` text NOT NULL,
	`task_id` text,
	`backup_id` text,
	`message` text,
	`pruned` text,
	`created_at` text NOT NULL,
	`finished_at` text,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`policy_id`) REFERENCES `backup_policies`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `backup_policy_runs_policy_idx` ON `backup_policy_runs` (`policy_id`,`created_at`);