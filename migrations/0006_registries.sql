CREATE TABLE `registries` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`server` text NOT NULL,
	`username` text NOT NULL,
	`secret_encrypted` text NOT NULL,
	`secret_hint` text NOT NULL,
	`verified_at` text NOT NULL,
	`verified_from_host_id` text,
	`created_by` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `registries_org_server_unique` ON `registries` (`organization_id`,`server`);