export function NotificationsPage() {
  return <p>Coming next.</p>;
}
