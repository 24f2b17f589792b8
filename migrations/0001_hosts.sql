CREATE TABLE `hosts` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`name` text NOT NULL,
	`agent_token_hash` text NOT NULL,
	`agent_token_prefix` text NOT NULL,
	`agent_token_created_at` text NOT NULL,
	`is_default` integer DEFAULT false NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`state` text DEFAULT 'never_connected' NOT NULL,
	`last_seen_at` text,
	`connected_at` text,
	`disconnected_at` text,
	`agent_version` text,
	`engine_version` text,
	`hostname` text,
	`os` text,
	`arch` text,
	`addresses` text,
	`containers` text,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `hosts_org_name_unique` ON `hosts` (`organization_id`,`name`);--> statement-breakpoint
CREATE UNIQUE INDEX `hosts_agent_token_unique` ON `hosts` (`agent_token_hash`);