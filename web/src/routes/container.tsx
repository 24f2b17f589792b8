export function ContainerPage() {
  return <p>Coming next.</p>;
}
