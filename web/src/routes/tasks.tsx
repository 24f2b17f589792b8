export function TasksPage() {
  return <p>Coming next.</p>;
}
