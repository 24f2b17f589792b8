CREATE TABLE `environments` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`project_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`is_default` integer DEFAULT false NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `environments_project_name_unique` ON `environments` (`project_id`,`name`);--> statement-breakpoint
CREATE INDEX `environments_org_idx` ON `environments` (`organization_id`);--> statement-breakpoint
ALTER TABLE `applications` ADD `environment_id` text REFERENCES environments(id) ON DELETE cascade;--> statement-breakpoint
CREATE INDEX `applications_environment_idx` ON `applications` (`environment_id`);--> statement-breakpoint
ALTER TABLE `database_services` ADD `environment_id` text REFERENCES environments(id) ON DELETE cascade;--> statement-breakpoint
CREATE INDEX `database_services_environment_idx` ON `database_services` (`environment_id`);--> statement-breakpoint
-- Hand-written (drizzle-kit drops ON DELETE from ADD COLUMN, restored above): every existing
-- project gets its default `production` environment, and what it holds moves into it.
INSERT INTO `environments` (`id`, `organization_id`, `project_id`, `name`, `description`, `is_default`, `created_at`, `updated_at`)
SELECT 'env_' || lower(hex(randomblob(10))), `organization_id`, `id`, 'production', 'Production environment', 1, `created_at`, `created_at` FROM `projects`;--> statement-breakpoint
UPDATE `applications` SET `environment_id` = (SELECT e.`id` FROM `environments` e WHERE e.`project_id` = `applications`.`project_id` AND e.`is_default` = 1);--> statement-breakpoint
UPDATE `database_services` SET `environment_id` = (SELECT e.`id` FROM `environments` e WHERE e.`project_id` = `database_services`.`project_id` AND e.`is_default` = 1);
